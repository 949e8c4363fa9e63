package encoder

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"google.golang.org/protobuf/encoding/protowire"

	ort "github.com/yalue/onnxruntime_go"
)

// Field numbers of onnx.proto (ModelProto, GraphProto, TensorProto, ValueInfoProto,
// TypeProto, TensorShapeProto) that graphIO reads.
const (
	modelGraph        = 7
	graphInitializer  = 5
	graphInput        = 11
	graphOutput       = 12
	tensorName        = 8
	valueName         = 1
	valueType         = 2
	typeTensor        = 1
	typeSequence      = 4
	typeMap           = 5
	typeOpaque        = 7
	typeSparseTensor  = 8
	typeOptional      = 9
	tensorElemType    = 1
	tensorShape       = 2
	shapeDim          = 1
	dimValue          = 1
	maxValueInfoBytes = 1 << 20 // a graph input or output's description; weights are never read whole
)

// graphIO reads a model's graph inputs and outputs from its ONNX bytes in one streaming
// pass, without holding the weights: what ONNX Runtime reports for a session, without
// creating one (a session of a real encoder takes seconds). As ONNX Runtime does, inputs
// that are also initializers (models of IR version < 4 list every weight as an input)
// are left out. A dimension without a value is -1, also where ONNX Runtime's shape
// inference would find one for an output (a symbolic token count, say): sizes that only
// inference knows are checked on the first output. A tensor whose shape the file leaves
// out has nil Dimensions: its rank is not declared.
func graphIO(r io.Reader) (ins, outs []ort.InputOutputInfo, err error) {
	p := &pbReader{r: bufio.NewReaderSize(r, 1<<16)}
	for {
		num, typ, n, err := p.tag()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, err
		}
		if num == modelGraph && typ == protowire.BytesType {
			if ins, outs, err = p.graph(n); err != nil {
				return nil, nil, err
			}
			continue
		}
		if err := p.skip(typ, n); err != nil {
			return nil, nil, err
		}
	}
	if ins == nil && outs == nil {
		return nil, nil, errors.New("not an ONNX model: no graph inputs or outputs")
	}
	return ins, outs, nil
}

// pbReader walks protobuf wire format on a stream, counting the bytes it consumes.
type pbReader struct {
	r   *bufio.Reader
	off int64
}

func (p *pbReader) ReadByte() (byte, error) {
	b, err := p.r.ReadByte()
	if err == nil {
		p.off++
	}
	return b, err
}

// tag reads a field's key and, for a length-delimited field, its length (n); for other
// wire types n is 0. io.EOF only at a clean field boundary.
func (p *pbReader) tag() (protowire.Number, protowire.Type, uint64, error) {
	start := p.off
	key, err := binary.ReadUvarint(p)
	if err != nil {
		if err == io.EOF && p.off == start {
			return 0, 0, 0, io.EOF
		}
		return 0, 0, 0, p.corrupt(err)
	}
	num, typ := protowire.DecodeTag(key)
	if num < protowire.MinValidNumber {
		return 0, 0, 0, p.corrupt(fmt.Errorf("field number %d", num))
	}
	var n uint64
	if typ == protowire.BytesType {
		if n, err = binary.ReadUvarint(p); err != nil {
			return 0, 0, 0, p.corrupt(err)
		}
	}
	return num, typ, n, nil
}

func (p *pbReader) corrupt(err error) error {
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return fmt.Errorf("not a valid ONNX model (at byte %d): %w", p.off, err)
}

// skip passes over a field's value (n: the length of a length-delimited one).
func (p *pbReader) skip(typ protowire.Type, n uint64) error {
	switch typ {
	case protowire.VarintType:
		_, err := binary.ReadUvarint(p)
		if err != nil {
			return p.corrupt(err)
		}
		return nil
	case protowire.Fixed32Type:
		n = 4
	case protowire.Fixed64Type:
		n = 8
	case protowire.BytesType:
	default:
		return p.corrupt(fmt.Errorf("wire type %d", typ))
	}
	for n > 0 {
		k := int(min(n, math.MaxInt32))
		d, err := p.r.Discard(k)
		p.off += int64(d)
		if err != nil {
			return p.corrupt(err)
		}
		n -= uint64(k)
	}
	return nil
}

// bytes reads a length-delimited value of n bytes whole.
func (p *pbReader) bytes(n uint64) ([]byte, error) {
	if n > maxValueInfoBytes {
		return nil, p.corrupt(fmt.Errorf("a %d-byte field where at most %d were expected", n, maxValueInfoBytes))
	}
	b := make([]byte, n)
	k, err := io.ReadFull(p.r, b)
	p.off += int64(k)
	if err != nil {
		return nil, p.corrupt(err)
	}
	return b, nil
}

// fields calls f for each field of the n-byte message at the reader; f must consume the
// value (through skip, bytes or a nested fields).
func (p *pbReader) fields(n uint64, f func(num protowire.Number, typ protowire.Type, n uint64) error) error {
	end := p.off + int64(n)
	for p.off < end {
		num, typ, k, err := p.tag()
		if err == io.EOF {
			return p.corrupt(err)
		}
		if err != nil {
			return err
		}
		if err := f(num, typ, k); err != nil {
			return err
		}
	}
	if p.off != end {
		return p.corrupt(errors.New("a field runs past the end of its message"))
	}
	return nil
}

// graph reads a GraphProto of n bytes.
func (p *pbReader) graph(n uint64) (ins, outs []ort.InputOutputInfo, err error) {
	var initializers []string
	err = p.fields(n, func(num protowire.Number, typ protowire.Type, k uint64) error {
		if typ != protowire.BytesType {
			return p.skip(typ, k)
		}
		switch num {
		case graphInput, graphOutput:
			b, err := p.bytes(k)
			if err != nil {
				return err
			}
			info, err := valueInfo(b)
			if err != nil {
				return p.corrupt(err)
			}
			if num == graphInput {
				ins = append(ins, info)
			} else {
				outs = append(outs, info)
			}
			return nil
		case graphInitializer:
			return p.fields(k, func(num protowire.Number, typ protowire.Type, k uint64) error {
				if num != tensorName || typ != protowire.BytesType {
					return p.skip(typ, k)
				}
				b, err := p.bytes(k)
				initializers = append(initializers, string(b))
				return err
			})
		}
		return p.skip(typ, k)
	})
	if err != nil {
		return nil, nil, err
	}
	ins = slices.DeleteFunc(ins, func(v ort.InputOutputInfo) bool { return slices.Contains(initializers, v.Name) })
	return ins, outs, nil
}

// valueInfo decodes a ValueInfoProto.
func valueInfo(b []byte) (ort.InputOutputInfo, error) {
	info := ort.InputOutputInfo{OrtValueType: ort.ONNXTypeUnknown}
	err := eachField(b, func(num protowire.Number, v []byte) error {
		switch num {
		case valueName:
			info.Name = string(v)
		case valueType:
			return eachField(v, func(num protowire.Number, v []byte) error {
				switch num {
				case typeTensor:
					info.OrtValueType = ort.ONNXTypeTensor
					return tensorType(v, &info)
				case typeSequence:
					info.OrtValueType = ort.ONNXTypeSequence
				case typeMap:
					info.OrtValueType = ort.ONNXTypeMap
				case typeOpaque:
					info.OrtValueType = ort.ONNXTypeOpaque
				case typeSparseTensor:
					info.OrtValueType = ort.ONNXTypeSparseTensor
				case typeOptional:
					info.OrtValueType = ort.ONNXTypeOptional
				}
				return nil
			})
		}
		return nil
	})
	return info, err
}

// tensorType decodes a TypeProto.Tensor: element type and shape.
func tensorType(b []byte, info *ort.InputOutputInfo) error {
	return eachField(b, func(num protowire.Number, v []byte) error {
		switch num {
		case tensorElemType:
			x, n := protowire.ConsumeVarint(v)
			if n < 0 {
				return protowire.ParseError(n)
			}
			info.DataType = ort.TensorElementDataType(x)
		case tensorShape:
			info.Dimensions = ort.Shape{}
			return eachField(v, func(num protowire.Number, v []byte) error {
				if num != shapeDim {
					return nil
				}
				d := int64(-1)
				err := eachField(v, func(num protowire.Number, v []byte) error {
					if num == dimValue {
						x, n := protowire.ConsumeVarint(v)
						if n < 0 {
							return protowire.ParseError(n)
						}
						d = int64(x)
					}
					return nil
				})
				info.Dimensions = append(info.Dimensions, d)
				return err
			})
		}
		return nil
	})
}

// eachField calls f with each field of an in-memory message: its number and its value's
// bytes (a varint's own bytes for varints, the contents for length-delimited fields).
func eachField(b []byte, f func(num protowire.Number, v []byte) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return protowire.ParseError(n)
		}
		b = b[n:]
		m := protowire.ConsumeFieldValue(num, typ, b)
		if m < 0 {
			return protowire.ParseError(m)
		}
		v := b[:m]
		if typ == protowire.BytesType {
			v, _ = protowire.ConsumeBytes(v)
		}
		if err := f(num, v); err != nil {
			return err
		}
		b = b[m:]
	}
	return nil
}
