runTensorBenches()
runAutogradBenches()
