// Command makegen writes a stand-in "generated" folder from DreamBench's own photos, in the
// layout `charisbench manifest dreambench` reads by default, so the real-data path can be
// walked without a generator: for each subject, prompt 00 is its photo (at 512 px), prompt
// 01 the photo mirrored, and prompt 02 the next subject's photo (an identity swap).
//
//	go run ./examples/dreambench/makegen DATA_DIR OUT_DIR
package main

import (
	"fmt"
	"image"
	"os"
	"path/filepath"

	"golang.org/x/image/draw"

	"github.com/charisbench/charisbench/charis/imageio"
	"github.com/charisbench/charisbench/datasets/dreambench"
)

const side = 512

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: makegen DATA_DIR OUT_DIR")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "makegen:", err)
		os.Exit(1)
	}
}

func run(data, out string) error {
	d, err := dreambench.Load(data)
	if err != nil {
		return err
	}
	photos := make([]image.Image, len(d.Subjects))
	for i, s := range d.Subjects {
		img, err := imageio.ReadFile(s.Photos[0], imageio.Options{})
		if err != nil {
			return err
		}
		small := image.NewRGBA(image.Rect(0, 0, side, side))
		draw.CatmullRom.Scale(small, small.Bounds(), img, img.Bounds(), draw.Src, nil)
		photos[i] = small
	}
	for i, s := range d.Subjects {
		for k, img := range []image.Image{photos[i], mirror(photos[i]), photos[(i+1)%len(photos)]} {
			p := filepath.Join(out, s.Name, fmt.Sprintf("%02d_0.png", k))
			if err := imageio.WritePNG(p, img); err != nil {
				return err
			}
		}
	}
	return nil
}

func mirror(img image.Image) image.Image {
	b := img.Bounds()
	m := image.NewRGBA(b)
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			m.Set(b.Max.X-1-(x-b.Min.X), y, img.At(x, y))
		}
	}
	return m
}
