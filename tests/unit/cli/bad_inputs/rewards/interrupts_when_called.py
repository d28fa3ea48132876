def reward(sample):
    raise KeyboardInterrupt
