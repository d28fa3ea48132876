reward = 42
