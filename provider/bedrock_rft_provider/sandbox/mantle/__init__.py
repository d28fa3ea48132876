"""Bedrock's OpenAI-compatible API ("bedrock-mantle") emulated on the sandbox's own endpoint, under ``/v1/``.

Point the official ``openai`` client at it: ``OpenAI(base_url=sandbox.openai_base_url,
api_key=sandbox.api_key)``. Emulated: Files (create, list, retrieve, delete, content), fine-tuning jobs
(create, list, retrieve, cancel, events, checkpoints) trained by the same emulator as native jobs
(``sandbox/training.py``, running the deployed reward Lambda), and Chat Completions answered by the
simulated policies of base, fine-tuned and checkpoint models. Anything else under ``/v1/`` answers a 501
naming the method and path.

Facts from the docs (reference/bedrock-rft-facts.md section 9; UG = Bedrock user guide pages
``fine-tuning-openai-apis``, ``fine-tuning-openai-job-create``, ``rft-prepare-data-open-weight``,
``rft-open-weight-access-security``; AS = the aws-samples gpt-oss/Qwen/Nemotron RFT notebooks):

- the models ``openai.gpt-oss-20b``, ``qwen.qwen3-32b`` (UG) and ``nvidia.nemotron-nano-3-30b`` (AS);
- bearer-token auth with an Amazon Bedrock API key, short-term keys generated from AWS credentials (UG);
- files with ``purpose="fine-tune"``, JSONL in chat-completion format, 100 to 20,000 training records,
  ``messages`` + ``reference_answer`` + any extra grader fields (UG prepare-data);
- ``method = {"type": "reinforcement", "reinforcement": {"grader": {"type": "lambda", "lambda":
  {"function": ARN}}, "hyperparameters": {"n_epochs", "batch_size", "learning_rate_multiplier"}}}`` and
  ``suffix`` not supported (UG job-create, AS);
- metric events with ``step``, ``total_steps``, ``critic_rewards_mean``, ``actor_pg_loss``,
  ``actor_entropy``, ``actor_grad_norm``, ``critic_advantages_mean``, ``response_length_mean`` (AS);
  checkpoints usable for inference; the fine-tuned model answers Chat Completions without deployment (UG);
  ``events`` and ``jobs`` list with ``limit`` (AS).

Our defensive guesses (undocumented; each is marked where it is implemented): id and model-name formats,
hyperparameter bounds, which fields are rejected as unknown, the error codes of failed jobs, the order
of list results (newest first, as OpenAI's API), the status mapping of the emulator's stages
(validation -> ``validating_files``, data processing -> ``queued``, training -> ``running``),
checkpoint metrics keys, and the 401/404/429 error bodies (OpenAI's shapes).
"""
