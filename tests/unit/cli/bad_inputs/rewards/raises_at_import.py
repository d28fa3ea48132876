raise RuntimeError("config missing")


def reward(sample):
    return 1.0
