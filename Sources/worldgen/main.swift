print("worldgen: not built yet")
