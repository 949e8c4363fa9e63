package imageio

import "image"

// webpToRGBA converts a decoded WebP. Lossy WebP (VP8) stores limited-range BT.601 YUV,
// but golang.org/x/image/webp returns it as an image.YCbCr, whose conversion assumes
// full-range JFIF YCbCr and shifts colours by about 10 levels. Here the samples go through
// libwebp's own fixed-point conversion (VP8YUVToR/G/B in its dsp/yuv.h). Chroma is
// upsampled by nearest neighbour, where libwebp interpolates: see the package tests for
// the resulting tolerance. Lossless WebP decodes to NRGBA and is converted as usual.
func webpToRGBA(src image.Image) *image.RGBA {
	var ycc *image.YCbCr
	var alpha *image.NYCbCrA
	switch s := src.(type) {
	case *image.YCbCr:
		ycc = s
	case *image.NYCbCrA:
		ycc, alpha = &s.YCbCr, s
	default:
		return toOpaqueRGBA(src)
	}
	b := ycc.Rect
	dst := image.NewRGBA(image.Rect(0, 0, b.Dx(), b.Dy()))
	for y := 0; y < b.Dy(); y++ {
		dp := dst.Pix[dst.PixOffset(0, y):]
		for x := 0; x < b.Dx(); x++ {
			px, py := b.Min.X+x, b.Min.Y+y
			yy := int(ycc.Y[ycc.YOffset(px, py)])
			ci := ycc.COffset(px, py)
			u, v := int(ycc.Cb[ci]), int(ycc.Cr[ci])
			r := vp8Clip8(multHi(yy, 19077) + multHi(v, 26149) - 14234)
			g := vp8Clip8(multHi(yy, 19077) - multHi(u, 6419) - multHi(v, 13320) + 8708)
			bl := vp8Clip8(multHi(yy, 19077) + multHi(u, 33050) - 17685)
			i := 4 * x
			if alpha != nil {
				a := uint32(alpha.A[alpha.AOffset(px, py)])
				r, g, bl = overWhite8(uint32(r), a), overWhite8(uint32(g), a), overWhite8(uint32(bl), a)
			}
			dp[i+0], dp[i+1], dp[i+2], dp[i+3] = r, g, bl, 0xff
		}
	}
	return dst
}

// yuvFix2 is libwebp's YUV_FIX2: the conversion keeps 6 fractional bits.
const yuvFix2 = 6

func multHi(v, coeff int) int { return (v * coeff) >> 8 }

func vp8Clip8(v int) uint8 {
	if v&^((256<<yuvFix2)-1) == 0 {
		return uint8(v >> yuvFix2)
	}
	if v < 0 {
		return 0
	}
	return 255
}
