print("inspect: not built yet")
