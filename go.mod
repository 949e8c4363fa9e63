module github.com/charisbench/charisbench

go 1.26.0

require golang.org/x/image v0.48.0

require go.yaml.in/yaml/v3 v3.0.6

require (
	github.com/spf13/cobra v1.10.2
	github.com/yalue/onnxruntime_go v1.27.0
)

require (
	github.com/inconshreveable/mousetrap v1.1.0 // indirect
	github.com/spf13/pflag v1.0.9 // indirect
)
