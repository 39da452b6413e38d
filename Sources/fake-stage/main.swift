print("fake-stage: not built yet")
