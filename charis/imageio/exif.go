package imageio

import (
	"bytes"
	"encoding/binary"
	"image"
)

// exifOrientation returns the EXIF orientation (1..8) stored in an encoded image, or 1 when
// there is none or it cannot be read. Malformed metadata is ignored, never fatal: the pixels
// are still good.
func exifOrientation(format string, data []byte) int {
	var tiff []byte
	switch format {
	case "jpeg":
		tiff = jpegEXIF(data)
	case "tiff":
		tiff = data
	case "png":
		tiff = pngEXIF(data)
	case "webp":
		tiff = webpEXIF(data)
	}
	if o := tiffOrientation(tiff); o >= 1 && o <= 8 {
		return o
	}
	return 1
}

// jpegEXIF returns the TIFF structure inside a JPEG's APP1 "Exif" segment.
func jpegEXIF(d []byte) []byte {
	if len(d) < 4 || d[0] != 0xFF || d[1] != 0xD8 {
		return nil
	}
	for i := 2; i+4 <= len(d); {
		if d[i] != 0xFF {
			return nil
		}
		marker := d[i+1]
		if marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0xFF {
			i += 2 // standalone markers, or fill bytes
			continue
		}
		if marker == 0xDA || marker == 0xD9 { // start of scan / end of image: no more metadata
			return nil
		}
		n := int(binary.BigEndian.Uint16(d[i+2:]))
		if n < 2 || i+2+n > len(d) {
			return nil
		}
		seg := d[i+4 : i+2+n]
		if marker == 0xE1 && bytes.HasPrefix(seg, []byte("Exif\x00\x00")) {
			return seg[6:]
		}
		i += 2 + n
	}
	return nil
}

// pngEXIF returns the payload of a PNG's eXIf chunk.
func pngEXIF(d []byte) []byte {
	for i := 8; i+12 <= len(d); {
		n := int(binary.BigEndian.Uint32(d[i:]))
		if n < 0 || i+12+n > len(d) {
			return nil
		}
		switch string(d[i+4 : i+8]) {
		case "eXIf":
			return d[i+8 : i+8+n]
		case "IDAT", "IEND": // eXIf must come before the image data
			return nil
		}
		i += 12 + n
	}
	return nil
}

// webpEXIF returns the payload of a WebP's EXIF chunk.
func webpEXIF(d []byte) []byte {
	if len(d) < 12 || string(d[:4]) != "RIFF" || string(d[8:12]) != "WEBP" {
		return nil
	}
	for i := 12; i+8 <= len(d); {
		n := int(binary.LittleEndian.Uint32(d[i+4:]))
		if n < 0 || i+8+n > len(d) {
			return nil
		}
		if string(d[i:i+4]) == "EXIF" {
			return bytes.TrimPrefix(d[i+8:i+8+n], []byte("Exif\x00\x00"))
		}
		i += 8 + n + n&1 // chunks are padded to even sizes
	}
	return nil
}

// tiffOrientation reads tag 0x0112 (Orientation) from IFD0 of a TIFF structure.
func tiffOrientation(t []byte) int {
	if len(t) < 8 {
		return 0
	}
	var bo binary.ByteOrder
	switch string(t[:2]) {
	case "II":
		bo = binary.LittleEndian
	case "MM":
		bo = binary.BigEndian
	default:
		return 0
	}
	ifd := int64(bo.Uint32(t[4:]))
	if ifd < 8 || ifd+2 > int64(len(t)) {
		return 0
	}
	count := int64(bo.Uint16(t[ifd:]))
	for e := int64(0); e < count; e++ {
		off := ifd + 2 + 12*e
		if off+12 > int64(len(t)) {
			return 0
		}
		if bo.Uint16(t[off:]) == 0x0112 && bo.Uint16(t[off+2:]) == 3 { // SHORT
			return int(bo.Uint16(t[off+8:]))
		}
	}
	return 0
}

// orient applies an EXIF orientation so the image shows upright, as Pillow's
// ImageOps.exif_transpose does: 2 mirror, 3 rotate 180, 4 flip, 5 transpose,
// 6 rotate 90 clockwise, 7 transverse, 8 rotate 90 counter-clockwise.
func orient(src *image.RGBA, o int) *image.RGBA {
	if o <= 1 || o > 8 {
		return src
	}
	w, h := src.Rect.Dx(), src.Rect.Dy()
	dw, dh := w, h
	if o >= 5 {
		dw, dh = h, w
	}
	dst := image.NewRGBA(image.Rect(0, 0, dw, dh))
	for y := 0; y < h; y++ {
		for x := 0; x < w; x++ {
			var dx, dy int
			switch o {
			case 2:
				dx, dy = w-1-x, y
			case 3:
				dx, dy = w-1-x, h-1-y
			case 4:
				dx, dy = x, h-1-y
			case 5:
				dx, dy = y, x
			case 6:
				dx, dy = h-1-y, x
			case 7:
				dx, dy = h-1-y, w-1-x
			case 8:
				dx, dy = y, w-1-x
			}
			copy(dst.Pix[dst.PixOffset(dx, dy):][:4], src.Pix[src.PixOffset(x, y):][:4])
		}
	}
	return dst
}
