package main

import (
	"fmt"
	"image/color"
	"os"
	"path/filepath"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// A series is one server's line in a plot.
type series struct {
	name string
	xy   plotter.XYs
}

// A chart is one plot: series of y against x, x on a log scale.
type chart struct {
	title, xLabel, yLabel string
	logY                  bool
	series                []series
}

// serverColor gives every server the same colour in every plot.
var serverColor = map[string]color.Color{
	"loop":         color.RGBA{R: 0x1f, G: 0x77, B: 0xb4, A: 0xff},
	"pinion-uring": color.RGBA{R: 0x94, G: 0x67, B: 0xbd, A: 0xff},
	"goroutine":    color.RGBA{R: 0xd6, G: 0x27, B: 0x28, A: 0xff},
	"gnet":         color.RGBA{R: 0x2c, G: 0xa0, B: 0x2c, A: 0xff},
	"c":            color.RGBA{R: 0x7f, G: 0x7f, B: 0x7f, A: 0xff},
}

// plotOf builds the gonum plot of c. Series with no point are left out; a
// chart with none gives nil.
func plotOf(c chart) (*plot.Plot, error) {
	p := plot.New()
	p.Title.Text = c.title
	p.X.Label.Text = c.xLabel
	p.Y.Label.Text = c.yLabel
	p.X.Scale = plot.LogScale{}
	p.X.Tick.Marker = plot.LogTicks{Prec: -1}
	if c.logY {
		p.Y.Scale = plot.LogScale{}
		p.Y.Tick.Marker = plot.LogTicks{Prec: -1}
	} else {
		p.Y.Min = 0
	}
	p.Legend.Top = true
	p.Legend.Left = true
	p.Add(plotter.NewGrid())
	drawn := 0
	for i, s := range c.series {
		if len(s.xy) == 0 {
			continue
		}
		l, pts, err := plotter.NewLinePoints(s.xy)
		if err != nil {
			return nil, fmt.Errorf("%s, %s: %w", c.title, s.name, err)
		}
		col, ok := serverColor[s.name]
		if !ok {
			col = color.Black
		}
		l.Color, pts.Color = col, col
		l.Width = vg.Points(1.5)
		pts.Shape = draw.GlyphDrawer(shapes[i%len(shapes)])
		p.Add(l, pts)
		p.Legend.Add(s.name, l, pts)
		drawn++
	}
	if drawn == 0 {
		return nil, nil
	}
	if c.logY {
		// A log axis over one value would be widened by ±1 and reach below
		// zero: give it room around the data instead.
		p.Y.Min, p.Y.Max = p.Y.Min/1.5, p.Y.Max*1.5
	}
	return p, nil
}

var shapes = []draw.GlyphDrawer{draw.CircleGlyph{}, draw.SquareGlyph{}, draw.TriangleGlyph{}, draw.CrossGlyph{}}

// writeCharts draws the charts as tiles of cols columns, each tile w by h,
// into one SVG file at path.
func writeCharts(path string, charts []chart, cols int, w, h vg.Length) error {
	rows := (len(charts) + cols - 1) / cols
	grid := make([][]*plot.Plot, rows)
	for j := range grid {
		grid[j] = make([]*plot.Plot, cols)
	}
	any := false
	for i, c := range charts {
		p, err := plotOf(c)
		if err != nil {
			return err
		}
		grid[i/cols][i%cols] = p
		any = any || p != nil
	}
	if !any {
		return nil
	}
	img := vgsvg.New(vg.Length(cols)*w, vg.Length(rows)*h)
	dc := draw.New(img)
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: vg.Millimeter * 4, PadY: vg.Millimeter * 4,
		PadTop: vg.Millimeter * 2, PadBottom: vg.Millimeter * 2, PadLeft: vg.Millimeter * 2, PadRight: vg.Millimeter * 2}
	canvases := plot.Align(grid, tiles, dc)
	for j := range grid {
		for i, p := range grid[j] {
			if p != nil {
				p.Draw(canvases[j][i])
			}
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	if _, err := img.WriteTo(f); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
