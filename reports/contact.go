package reports

import (
	"image"
	"image/color"
	"image/png"
	"os"

	"golang.org/x/image/draw"
	"golang.org/x/image/font"
	"golang.org/x/image/font/basicfont"
	"golang.org/x/image/math/fixed"

	"github.com/charisbench/charisbench/charis"
	"github.com/charisbench/charisbench/charis/imageio"
)

// ContactRow is one row of a contact sheet: a label and one image per column ("" leaves
// the cell empty).
type ContactRow struct {
	Label  string
	Images []string
}

// contactCell is the side of a contact sheet's cell in pixels; images are scaled to fit
// with nearest-neighbour sampling, so small renders stay crisp.
const contactCell = 96

// ContactSheet writes a PNG grid to path: a header of column names, then one row per
// ContactRow with its label on the left. An image that cannot be read shows as a gray
// "no image" cell.
func ContactSheet(path string, columns []string, rows []ContactRow) error {
	const labelW, headerH, pad = 90, 18, 4
	w := labelW + len(columns)*(contactCell+pad)
	h := headerH + len(rows)*(contactCell+pad)
	sheet := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(sheet, sheet.Bounds(), image.NewUniform(color.White), image.Point{}, draw.Src)
	text := func(s string, x, y, maxW int) {
		for len(s) > 0 && font.MeasureString(basicfont.Face7x13, s).Ceil() > maxW {
			s = s[:len(s)-1]
		}
		d := font.Drawer{Dst: sheet, Src: image.Black, Face: basicfont.Face7x13, Dot: fixed.P(x, y)}
		d.DrawString(s)
	}
	for c, name := range columns {
		text(name, labelW+c*(contactCell+pad), headerH-5, contactCell+pad)
	}
	for r, row := range rows {
		y := headerH + r*(contactCell+pad)
		text(row.Label, 2, y+contactCell/2, labelW-4)
		for c, p := range row.Images {
			if p == "" || c >= len(columns) {
				continue
			}
			x := labelW + c*(contactCell+pad)
			cell := image.Rect(x, y, x+contactCell, y+contactCell)
			img, err := imageio.ReadFile(p, imageio.Options{})
			if err != nil { // a failed generation: its sample's error in the scored run
				draw.Draw(sheet, cell, image.NewUniform(color.Gray{Y: 220}), image.Point{}, draw.Src)
				text("no image", x+4, y+contactCell/2, contactCell-8)
				continue
			}
			draw.NearestNeighbor.Scale(sheet, cell, img, img.Bounds(), draw.Src, nil)
		}
	}
	return charis.WriteAtomic(path, func(f *os.File) error { return png.Encode(f, sheet) })
}
