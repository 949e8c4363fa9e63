package main

import (
	"fmt"
	"image/png"
	"os"

	"github.com/spf13/cobra"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/imageio"
	"github.com/charisbench/charisbench/charis/preprocess"
)

func newPreprocessCmd() *cobra.Command {
	var (
		spec     preprocess.Spec
		mode     string
		rounding string
		interp   string
		out      string
		manifest string
		role     string
	)
	c := &cobra.Command{
		Use:   "preprocess IMAGE -o OUT.png",
		Short: "Write the uint8 image an encoder sees (resized and cropped, before normalisation)",
		Long: `Decode IMAGE (EXIF orientation applied, transparency on white), resize it with Pillow's
filters byte for byte, center-crop it, and write the result as PNG: exactly the pixels an
encoder receives before rescaling and normalisation.

Settings come from flags, or from an encoder of a model manifest with --manifest and --role.`,
		Example: `  charisbench preprocess --resize 224 --crop 224 photo.jpg -o seen.png
  charisbench preprocess --resize 256 --crop 224 --crop-rounding half_even --interp bilinear photo.jpg -o seen.png
  charisbench preprocess --manifest testdata/models/models.yaml --role identity photo.jpg -o seen.png`,
		Args: cobra.ExactArgs(1),
		RunE: func(c *cobra.Command, args []string) error {
			if out == "" {
				return fmt.Errorf("-o OUT.png is required")
			}
			if manifest != "" {
				m, err := charis.LoadModelManifest(manifest)
				if err != nil {
					return err
				}
				e := m.Encoder(charis.Role(role))
				if e == nil || e.Preprocess == nil {
					return fmt.Errorf("%s: no image encoder with role %q", manifest, role)
				}
				spec = e.PixelSpec()
			} else {
				if c.Flags().Changed("role") {
					return fmt.Errorf("--role needs --manifest")
				}
				spec.Mode, spec.Rounding, spec.Interp = preprocess.ResizeMode(mode), preprocess.CropRounding(rounding), preprocess.Interp(interp)
				spec.Rescale, spec.Std = 1, [3]float64{1, 1, 1}
			}
			if err := spec.Validate(); err != nil {
				return fmt.Errorf("--%s", err)
			}
			img, err := imageio.ReadFile(args[0], imageio.Options{})
			if err != nil {
				return err
			}
			px, err := spec.Pixels(img)
			if err != nil {
				return err
			}
			f, err := os.Create(out)
			if err != nil {
				return err
			}
			if err := png.Encode(f, px); err != nil {
				f.Close()
				return fmt.Errorf("writing %s: %w", out, err)
			}
			if err := f.Close(); err != nil {
				return err
			}
			fmt.Fprintf(c.ErrOrStderr(), "%s: %dx%d -> %s %dx%d (%s)\n", args[0], img.Rect.Dx(), img.Rect.Dy(),
				out, px.Rect.Dx(), px.Rect.Dy(), spec.ID())
			return nil
		},
	}
	fl := c.Flags()
	fl.IntVar(&spec.Resize, "resize", 0, "target size: the short side (resize-mode short_side) or both sides (square)")
	fl.StringVar(&mode, "resize-mode", string(preprocess.ShortSideMode), "short_side (keep aspect ratio) or square")
	fl.IntVar(&spec.Crop, "crop", 0, "square center crop; 0 or absent: no crop")
	fl.StringVar(&rounding, "crop-rounding", string(preprocess.Floor), "crop window offset: floor (Hugging Face) or half_even (torchvision, openai/CLIP)")
	fl.StringVar(&interp, "interp", string(preprocess.Bicubic), "resampling filter: bicubic or bilinear (Pillow's)")
	fl.StringVarP(&out, "output", "o", "", "output PNG")
	fl.StringVar(&manifest, "manifest", "", "take the settings from this model manifest's encoder (with --role)")
	fl.StringVar(&role, "role", string(charis.RoleIdentity), "encoder role in --manifest")
	c.MarkFlagsMutuallyExclusive("manifest", "resize")
	return c
}
