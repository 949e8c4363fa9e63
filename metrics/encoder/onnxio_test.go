package encoder

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	ort "github.com/yalue/onnxruntime_go"
	"google.golang.org/protobuf/encoding/protowire"
)

// TestGraphIOLikeORT: on every model the project ships, graphIO reads the inputs and
// outputs ONNX Runtime reports for a session of the file, but for the output sizes the
// file leaves symbolic and ONNX Runtime's shape inference fills in.
func TestGraphIOLikeORT(t *testing.T) {
	openRuntime(t, Options{})
	var paths []string
	for _, g := range []string{"testdata/models/*.onnx", "charis/world/encoders/models/*.onnx"} {
		p, _ := filepath.Glob(filepath.Join(repoRoot, g))
		paths = append(paths, p...)
	}
	if len(paths) < 9 {
		t.Fatalf("found %d models, want the 9 the project ships", len(paths))
	}
	for _, p := range paths {
		wantIn, wantOut, err := ort.GetInputOutputInfo(p)
		if err != nil {
			t.Fatal(err)
		}
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		ins, outs, err := graphIO(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if !sameIO(ins, wantIn, false) || !sameIO(outs, wantOut, true) {
			t.Errorf("%s:\n inputs  %v\n want    %v\n outputs %v\n want    %v", filepath.Base(p), ins, wantIn, outs, wantOut)
		}
	}
}

// sameIO compares graphIO's a with ONNX Runtime's b; inferred lets a dimension of -1 in
// a stand for one ONNX Runtime inferred.
func sameIO(a, b []ort.InputOutputInfo, inferred bool) bool {
	return slices.EqualFunc(a, b, func(x, y ort.InputOutputInfo) bool {
		return x.Name == y.Name && x.OrtValueType == y.OrtValueType && x.DataType == y.DataType &&
			slices.EqualFunc(x.Dimensions, y.Dimensions, func(d, e int64) bool { return d == e || (inferred && d == -1) })
	})
}

// valueInfoBytes encodes a ValueInfoProto of a float tensor; dims < 0 are symbolic, nil
// dims leave the shape out.
func valueInfoBytes(name string, dims []int64) []byte {
	var tensor []byte
	tensor = protowire.AppendTag(tensor, tensorElemType, protowire.VarintType)
	tensor = protowire.AppendVarint(tensor, uint64(ort.TensorElementDataTypeFloat))
	if dims != nil {
		var shape []byte
		for _, d := range dims {
			var dim []byte
			if d < 0 {
				dim = protowire.AppendTag(dim, 2, protowire.BytesType)
				dim = protowire.AppendString(dim, "batch")
			} else {
				dim = protowire.AppendTag(dim, dimValue, protowire.VarintType)
				dim = protowire.AppendVarint(dim, uint64(d))
			}
			shape = protowire.AppendTag(shape, shapeDim, protowire.BytesType)
			shape = protowire.AppendBytes(shape, dim)
		}
		tensor = protowire.AppendTag(tensor, tensorShape, protowire.BytesType)
		tensor = protowire.AppendBytes(tensor, shape)
	}
	var typ []byte
	typ = protowire.AppendTag(typ, typeTensor, protowire.BytesType)
	typ = protowire.AppendBytes(typ, tensor)
	var v []byte
	v = protowire.AppendTag(v, valueName, protowire.BytesType)
	v = protowire.AppendString(v, name)
	v = protowire.AppendTag(v, valueType, protowire.BytesType)
	return protowire.AppendBytes(v, typ)
}

// TestGraphIOCases: a weight listed among the inputs (IR version < 4) is not an input; an
// output without a shape has no declared rank; large weights are passed over; truncated
// or foreign bytes are errors.
func TestGraphIOCases(t *testing.T) {
	var init []byte
	init = protowire.AppendTag(init, tensorName, protowire.BytesType)
	init = protowire.AppendString(init, "w")
	init = protowire.AppendTag(init, 9, protowire.BytesType) // raw_data
	init = protowire.AppendBytes(init, make([]byte, 3<<20))
	var graph []byte
	graph = protowire.AppendTag(graph, graphInitializer, protowire.BytesType)
	graph = protowire.AppendBytes(graph, init)
	for _, v := range []struct {
		num  protowire.Number
		name string
		dims []int64
	}{{graphInput, "pixels", []int64{-1, 3, 224, 224}}, {graphInput, "w", []int64{8}}, {graphOutput, "embeds", nil}} {
		graph = protowire.AppendTag(graph, v.num, protowire.BytesType)
		graph = protowire.AppendBytes(graph, valueInfoBytes(v.name, v.dims))
	}
	var model []byte
	model = protowire.AppendTag(model, 1, protowire.VarintType) // ir_version
	model = protowire.AppendVarint(model, 3)
	model = protowire.AppendTag(model, modelGraph, protowire.BytesType)
	model = protowire.AppendBytes(model, graph)

	ins, outs, err := graphIO(bytes.NewReader(model))
	if err != nil {
		t.Fatal(err)
	}
	if len(ins) != 1 || ins[0].Name != "pixels" || !slices.Equal(ins[0].Dimensions, []int64{-1, 3, 224, 224}) || ins[0].DataType != ort.TensorElementDataTypeFloat {
		t.Errorf("inputs %v, want pixels [-1 3 224 224] alone", ins)
	}
	if len(outs) != 1 || outs[0].Name != "embeds" || outs[0].Dimensions != nil || outs[0].OrtValueType != ort.ONNXTypeTensor {
		t.Errorf("outputs %v, want embeds with no declared shape", outs)
	}
	for name, b := range map[string][]byte{
		"truncated": model[:len(model)-10],
		"text":      []byte("version: 1\nencoders: []\n"),
		"empty":     nil,
	} {
		if _, _, err := graphIO(bytes.NewReader(b)); err == nil || !strings.Contains(err.Error(), "ONNX") {
			t.Errorf("%s: err %v, want one saying it is not an ONNX model", name, err)
		}
	}
}
