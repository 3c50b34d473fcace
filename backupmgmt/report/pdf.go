package report

import (
	"bytes"
	"fmt"
	"strings"
	"unicode"

	"github.com/go-pdf/fpdf"
)

// PDF layout, in millimetres on A4 landscape.
const (
	pdfMargin    = 12.0
	pdfLine      = 4.0
	pdfPad       = 0.8
	pdfFontSize  = 8.0
	pdfMinCol    = 14.0
	pdfMaxCell   = 600 // runes of one cell; the rest is cut with "…"
	pdfFontName  = "body"
	pdfCoreFont  = "Helvetica"
	pdfFooterGap = 8.0
)

// pdfWriter lays tables out on pages: cells wrap, rows never split, and a
// table that goes on over a page break repeats its header.
type pdfWriter struct {
	pdf    *fpdf.Fpdf
	family string
	utf8   bool
	width  float64 // usable width
	bottom float64 // lowest y a row may reach
}

func renderPDF(v *view, font []byte) ([]byte, error) {
	pdf := fpdf.New("L", "mm", "A4", "")
	w := &pdfWriter{pdf: pdf, family: pdfCoreFont}
	if font != nil {
		pdf.AddUTF8FontFromBytes(pdfFontName, "", font)
		w.family, w.utf8 = pdfFontName, true
	}
	// Fixed metadata: the same document gives the same file.
	pdf.SetCreationDate(v.Header.GeneratedAt)
	pdf.SetModificationDate(v.Header.GeneratedAt)
	pdf.SetProducer("Custos", false)
	pdf.SetTitle(w.text(v.Header.Title), w.utf8)
	pdf.SetCatalogSort(true)
	pdf.SetMargins(pdfMargin, pdfMargin, pdfMargin)
	pdf.SetAutoPageBreak(false, 0)
	pageW, pageH := pdf.GetPageSize()
	w.width = pageW - 2*pdfMargin
	w.bottom = pageH - pdfMargin - pdfFooterGap
	pdf.SetFooterFunc(func() {
		pdf.SetXY(pdfMargin, pageH-pdfMargin-pdfLine)
		pdf.SetFont(w.family, "", pdfFontSize-1)
		pdf.CellFormat(w.width, pdfLine, w.out(w.text(fmt.Sprintf("%s, page %d", v.Header.Title, pdf.PageNo()))), "", 0, "C", false, 0, "")
	})
	pdf.AddPage()

	pdf.SetFont(w.family, "", 15)
	w.para(v.Header.Title, 7)
	pdf.SetFont(w.family, "", pdfFontSize+1)
	for _, m := range v.Meta {
		w.para(m[0]+": "+m[1], pdfLine+0.5)
	}
	for _, t := range v.Tables {
		w.table(t)
	}
	if err := pdf.Error(); err != nil {
		return nil, fmt.Errorf("report: pdf: %w", err)
	}
	var buf bytes.Buffer
	if err := pdf.Output(&buf); err != nil {
		return nil, fmt.Errorf("report: pdf: %w", err)
	}
	return buf.Bytes(), nil
}

// text makes s something the font can show: without a TrueType font only
// Latin-1 is left, the rest becomes '?'; with one, characters outside the
// Basic Multilingual Plane do (fpdf indexes widths by 16-bit code). Control
// characters become spaces.
func (w *pdfWriter) text(s string) string {
	if len([]rune(s)) > pdfMaxCell {
		s = string([]rune(s)[:pdfMaxCell]) + "..."
	}
	return strings.Map(func(r rune) rune {
		switch {
		case r == '\n':
			return r
		case unicode.IsControl(r):
			return ' '
		case !w.utf8 && (r > 0xFF || (r >= 0x80 && r < 0xA0)):
			return '?'
		case r > 0xFFFF:
			return '?'
		}
		return r
	}, s)
}

// out encodes text for the page: the core font takes Latin-1 bytes.
func (w *pdfWriter) out(s string) string {
	if w.utf8 {
		return s
	}
	b := make([]byte, 0, len(s))
	for _, r := range s {
		b = append(b, byte(r))
	}
	return string(b)
}

// space starts a new page unless h millimetres fit below the cursor.
func (w *pdfWriter) space(h float64) {
	if w.pdf.GetY()+h > w.bottom {
		w.pdf.AddPage()
	}
}

func (w *pdfWriter) para(s string, h float64) {
	lines := w.pdf.SplitText(w.text(s), w.width)
	w.space(h * float64(len(lines)))
	for _, ln := range lines {
		w.pdf.SetX(pdfMargin)
		w.pdf.CellFormat(w.width, h, w.out(ln), "", 1, "L", false, 0, "")
	}
}

func (w *pdfWriter) table(t table) {
	pdf := w.pdf
	pdf.SetFont(w.family, "", pdfFontSize+3)
	// The title stays with the header and first row.
	w.space(6 + 3*(pdfLine+2*pdfPad))
	pdf.Ln(2)
	w.para(t.Title, 6)
	pdf.SetFont(w.family, "", pdfFontSize)
	if len(t.Rows) > 0 {
		cols := w.columns(t)
		w.row(t.Columns, cols, true, false)
		for _, r := range t.Rows {
			if w.row(r, cols, false, false) {
				w.row(t.Columns, cols, true, true)
				w.row(r, cols, false, true)
			}
		}
	}
	if t.Note != "" {
		w.para(t.Note, pdfLine+0.5)
	}
}

// columns sizes columns by their widest cell, each at least pdfMinCol and
// at most 40 % of the page, shrunk together when they do not fit.
func (w *pdfWriter) columns(t table) []float64 {
	n := len(t.Columns)
	natural := make([]float64, n)
	measure := func(cells []string) {
		for i := 0; i < n && i < len(cells); i++ {
			cw := w.pdf.GetStringWidth(w.text(cells[i])) + 2*pdfPad + 2
			natural[i] = max(natural[i], min(max(cw, pdfMinCol), w.width*0.4))
		}
	}
	measure(t.Columns)
	for _, r := range t.Rows {
		measure(r)
	}
	sum := 0.0
	for _, c := range natural {
		sum += c
	}
	if sum > w.width {
		for i := range natural {
			natural[i] *= w.width / sum
		}
	}
	return natural
}

// row draws one row; when it does not fit on the page it starts a new page
// instead and reports true, so that the caller repeats the header first.
// force draws it anyway, for a row taller than a page.
func (w *pdfWriter) row(cells []string, cols []float64, header, force bool) (newPage bool) {
	pdf := w.pdf
	lines := make([][]string, len(cols))
	most := 1
	for i := range cols {
		s := ""
		if i < len(cells) {
			s = w.text(cells[i])
		}
		lines[i] = pdf.SplitText(s, cols[i])
		if len(lines[i]) == 0 {
			lines[i] = []string{""}
		}
		most = max(most, len(lines[i]))
	}
	h := float64(most)*pdfLine + 2*pdfPad
	if pdf.GetY()+h > w.bottom && !header && !force {
		pdf.AddPage()
		return true
	}
	x, y := pdfMargin, pdf.GetY()
	if header {
		pdf.SetFillColor(230, 234, 240)
	}
	for i, cw := range cols {
		style := "D"
		if header {
			style = "FD"
		}
		pdf.Rect(x, y, cw, h, style)
		for k, ln := range lines[i] {
			pdf.SetXY(x, y+pdfPad+float64(k)*pdfLine)
			pdf.CellFormat(cw, pdfLine, w.out(ln), "", 0, "L", false, 0, "")
		}
		x += cw
	}
	pdf.SetXY(pdfMargin, y+h)
	return false
}
