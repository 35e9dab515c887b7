// Command gen minifies widget/src into widget/dist and copies the scripts
// the Shopify theme app extension serves from its own assets. With -check it
// writes nothing: it fails if dist/ is stale or the popup is over budget, and
// prints the gzipped sizes (make test runs it).
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"path/filepath"

	"github.com/parrain/parrain/widget"
)

// themeAssets are copies for the theme app extension, whose assets must live
// in the extension (shopify.md §6).
var themeAssets = map[string]string{
	"capture.js": "shopify/extensions/parrain-embed/assets/parrain-capture.js",
	"popup.js":   "shopify/extensions/parrain-embed/assets/parrain-widget.js",
}

func main() {
	check := flag.Bool("check", false, "verify instead of write")
	dir := flag.String("dir", ".", "the widget directory")
	flag.Parse()
	stale, total := 0, 0
	for _, name := range widget.Scripts {
		out, err := widget.Minify(name)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		gz := widget.GzipSize(out)
		if name != "capture.js" {
			total += gz
		}
		fmt.Printf("widget %-10s %6d bytes minified, %5d bytes gzipped\n", name, len(out), gz)
		targets := []string{filepath.Join("dist", name)}
		if t, ok := themeAssets[name]; ok {
			targets = append(targets, t)
		}
		for _, t := range targets {
			p := filepath.Join(*dir, t)
			if *check {
				if cur, err := os.ReadFile(p); err != nil || !bytes.Equal(cur, out) {
					fmt.Fprintf(os.Stderr, "%s is stale: run `go generate ./widget`\n", p)
					stale++
				}
				continue
			}
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
			if err := os.WriteFile(p, out, 0o644); err != nil {
				fmt.Fprintln(os.Stderr, err)
				os.Exit(1)
			}
		}
	}
	fmt.Printf("widget loader+popup: %d bytes gzipped (budget %d)\n", total, widget.BudgetGzip)
	if total > widget.BudgetGzip {
		fmt.Fprintf(os.Stderr, "widget over budget: %d > %d bytes gzipped\n", total, widget.BudgetGzip)
		os.Exit(1)
	}
	if stale > 0 {
		os.Exit(1)
	}
}
