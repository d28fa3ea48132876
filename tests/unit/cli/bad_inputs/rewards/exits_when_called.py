import sys


def reward(sample):
    sys.exit(3)
