def reward(sample):
    return reward(sample)
