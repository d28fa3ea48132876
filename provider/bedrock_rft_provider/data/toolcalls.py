"""An offline, seeded generator of tool-calling tasks: RFT records with ``tools`` and the expected call.

Six realistic functions (weather, currency conversion, calendar, flights, reminders, stock quotes) in
the OpenAI function-spec shape Bedrock's RFT data takes (facts §1). Each record offers the right
function and two distractors (shuffled) and asks in plain words for one call; ``reference_answer`` is
``{"tool_calls": [{"name", "arguments"}]}`` holding exactly the values the prompt was written from
(unit conversions the prompt asks for, like "2 hours" -> ``minutes_from_now: 120`` or "December 3,
2026" -> ``"2026-12-03"``, are done by the generator, so every label is right by construction).
``category`` is the function's name (the evaluation slices accuracy by it). Record ``i`` depends only
on ``seed``: ``generate(n + k, seed)`` starts with ``generate(n, seed)``, and no prompt repeats.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from datetime import date, timedelta
from typing import Any

from bedrock_rft_provider.data.records import content_id

SYSTEM_PROMPT = (
    "You are an assistant that acts by calling functions. When one of the available functions fits the "
    "request, call exactly that function once, with every required argument and no others. If your "
    'interface has no native tool calling, reply with only a JSON object {"name": ..., "arguments": {...}}.'
)
CITIES = (
    "Paris", "Tokyo", "Lagos", "Lima", "Oslo", "Toronto", "Mumbai", "Nairobi", "Seoul", "Madrid",
    "Chicago", "Sydney", "Cairo", "Berlin", "Dublin", "Hanoi", "Bogota", "Vienna", "Denver", "Lisbon",
)  # fmt: skip
CURRENCIES = (
    ("US dollars", "USD"), ("euros", "EUR"), ("Japanese yen", "JPY"), ("British pounds", "GBP"),
    ("Swiss francs", "CHF"), ("Canadian dollars", "CAD"), ("Indian rupees", "INR"), ("Mexican pesos", "MXN"),
)  # fmt: skip
AIRPORTS = (
    ("Paris", "CDG"), ("Tokyo", "HND"), ("New York", "JFK"), ("London", "LHR"), ("Singapore", "SIN"),
    ("Dubai", "DXB"), ("Sao Paulo", "GRU"), ("Johannesburg", "JNB"), ("Los Angeles", "LAX"),
    ("Madrid", "MAD"),
)  # fmt: skip
COMPANIES = (
    ("Amazon", "AMZN"), ("Apple", "AAPL"), ("Microsoft", "MSFT"), ("Toyota", "TM"), ("Nvidia", "NVDA"),
    ("Shopify", "SHOP"), ("Netflix", "NFLX"), ("Intel", "INTC"), ("Adobe", "ADBE"), ("Oracle", "ORCL"),
)  # fmt: skip
EVENTS = (
    "Team sync", "Dentist appointment", "Budget review", "Lunch with Priya", "Yoga class",
    "Quarterly planning", "Parent-teacher meeting", "Code review", "Flight check-in", "Book club",
)  # fmt: skip
ERRANDS = (
    "call the bank", "water the plants", "take the laundry out", "send the invoice", "stretch",
    "pick up the kids", "join the standup", "check the oven", "renew the parking permit", "drink water",
)  # fmt: skip
_START = date(2026, 12, 1)


def _spec(name: str, description: str, properties: dict[str, Any], required: list[str]) -> dict[str, Any]:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": properties, "required": required},
        },
    }


_STR, _INT, _NUM = {"type": "string"}, {"type": "integer"}, {"type": "number"}
TOOLS: dict[str, dict[str, Any]] = {
    "get_weather": _spec(
        "get_weather",
        "Current weather for a city.",
        {"city": _STR, "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
        ["city", "unit"],
    ),
    "convert_currency": _spec(
        "convert_currency",
        "Convert an amount of money between currencies (ISO 4217 codes, e.g. USD).",
        {"amount": _NUM, "from_currency": _STR, "to_currency": _STR},
        ["amount", "from_currency", "to_currency"],
    ),
    "create_calendar_event": _spec(
        "create_calendar_event",
        "Add an event to the user's calendar. date is YYYY-MM-DD, start_time is 24-hour HH:MM.",
        {"title": _STR, "date": _STR, "start_time": _STR, "duration_minutes": _INT},
        ["title", "date", "start_time", "duration_minutes"],
    ),
    "search_flights": _spec(
        "search_flights",
        "Search flights between two airports (IATA codes) on a date (YYYY-MM-DD).",
        {"origin": _STR, "destination": _STR, "date": _STR, "passengers": _INT},
        ["origin", "destination", "date", "passengers"],
    ),
    "set_reminder": _spec(
        "set_reminder",
        "Remind the user of something after a number of minutes.",
        {"message": _STR, "minutes_from_now": _INT},
        ["message", "minutes_from_now"],
    ),
    "get_stock_price": _spec(
        "get_stock_price", "Latest share price for a stock ticker symbol.", {"symbol": _STR}, ["symbol"]
    ),
}

Task = tuple[str, dict[str, Any]]  # (user prompt, expected arguments)


def _day(rng: random.Random) -> tuple[str, str]:
    day = _START + timedelta(days=rng.randrange(120))
    return f"{day:%B} {day.day}, {day.year}", day.isoformat()


def _weather(rng: random.Random) -> Task:
    city, unit = rng.choice(CITIES), rng.choice(("celsius", "fahrenheit"))
    template = rng.choice(
        (
            "What's the weather like in {city} right now? Give me the temperature in {unit}.",
            "Is it cold in {city} today? Answer in degrees {unit}.",
            "Check the current weather in {city} for me, in {unit} please.",
        )
    )
    return template.format(city=city, unit=unit), {"city": city, "unit": unit}


def _currency(rng: random.Random) -> Task:
    (from_name, from_code), (to_name, to_code) = rng.sample(CURRENCIES, 2)
    amount = rng.choice((rng.randint(5, 5000), round(rng.uniform(1, 900), 2)))
    template = rng.choice(("How much is {amount} {a} in {b}?", "Convert {amount} {a} to {b}, please."))
    arguments = {"amount": amount, "from_currency": from_code, "to_currency": to_code}
    return template.format(amount=amount, a=from_name, b=to_name), arguments


def _calendar(rng: random.Random) -> Task:
    title, (spoken, iso) = rng.choice(EVENTS), _day(rng)
    hour, minute = rng.randint(7, 19), rng.choice((0, 15, 30, 45))
    duration = rng.choice((15, 30, 45, 60, 90, 120))
    clock = f"{(hour - 1) % 12 + 1}:{minute:02d} {'am' if hour < 12 else 'pm'}"
    prompt = f'Put "{title}" on my calendar on {spoken} at {clock}, for {duration} minutes.'
    arguments = {
        "title": title,
        "date": iso,
        "start_time": f"{hour:02d}:{minute:02d}",
        "duration_minutes": duration,
    }
    return prompt, arguments


def _flights(rng: random.Random) -> Task:
    (origin, a), (destination, b) = rng.sample(AIRPORTS, 2)
    spoken, iso = _day(rng)
    passengers = rng.randint(1, 6)
    people = "me" if passengers == 1 else f"{passengers} people"
    prompt = f"Find flights from {origin} ({a}) to {destination} ({b}) on {spoken} for {people}."
    return prompt, {"origin": a, "destination": b, "date": iso, "passengers": passengers}


def _reminder(rng: random.Random) -> Task:
    errand = rng.choice(ERRANDS)
    if rng.random() < 0.5:
        hours = rng.randint(1, 8)
        when, minutes = f"{hours} hour{'s' if hours > 1 else ''}", hours * 60
    else:
        minutes = rng.randint(2, 59)
        when = f"{minutes} minutes"
    return f"Remind me to {errand} in {when}.", {"message": errand, "minutes_from_now": minutes}


def _stock(rng: random.Random) -> Task:
    company, symbol = rng.choice(COMPANIES)
    template = rng.choice(
        (
            "What is {c} ({s}) trading at right now?",
            "Look up the latest {c} share price (ticker {s}).",
            "How much does one {s} share cost today? That's {c}.",
        )
    )
    return template.format(c=company, s=symbol), {"symbol": symbol}


GENERATORS: dict[str, Callable[[random.Random], Task]] = {
    "get_weather": _weather,
    "convert_currency": _currency,
    "create_calendar_event": _calendar,
    "search_flights": _flights,
    "set_reminder": _reminder,
    "get_stock_price": _stock,
}
DISTRACTORS = 2
_TRIES = 20


def generate(count: int, seed: int = 0) -> Iterator[dict[str, Any]]:
    """``count`` tool-calling RFT records (see the module doc), deterministic for ``seed``."""
    rng = random.Random(f"tool-calls:{seed}")
    seen: set[str] = set()
    names = list(GENERATORS)
    produced = 0
    while produced < count:
        # Functions take turns; one whose prompts are used up (stock quotes have ~30) hands its turn on.
        for turn in range(len(names) * _TRIES):
            name = names[(produced + turn // _TRIES) % len(names)]
            prompt, arguments = GENERATORS[name](rng)
            if prompt not in seen:
                break
        else:
            raise ValueError(f"the tool-call generator has no new prompt after {produced} records")
        seen.add(prompt)
        offered = [name, *rng.sample([n for n in names if n != name], DISTRACTORS)]
        rng.shuffle(offered)
        produced += 1
        yield {
            "id": content_id(prompt, "tools"),
            "messages": [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": prompt}],
            "tools": [TOOLS[n] for n in offered],
            "reference_answer": {"tool_calls": [{"name": name, "arguments": arguments}]},
            "category": name,
        }
