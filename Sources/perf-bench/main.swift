runTensorBenches()
