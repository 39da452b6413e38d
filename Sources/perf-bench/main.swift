runTensorBenches()
runAutogradBenches()
runOptimBenches()
