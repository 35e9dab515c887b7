// Package widget holds what runs in the shopper's browser (the loader, the
// popup, the storefront capture script) and serves it: minified at build
// time (go generate), embedded in the binary, content-hashed, precompressed.
package widget

import (
	"bytes"
	"compress/gzip"
	"embed"
	"fmt"
	"path"

	"github.com/evanw/esbuild/pkg/api"
)

//go:generate go run ./internal/gen

// Sources are the readable scripts; dist holds them minified.
//
//go:embed src/*.js
var sources embed.FS

// Scripts are the scripts built from src/ into dist/.
var Scripts = []string{"loader.js", "popup.js", "capture.js"}

// BudgetGzip is the most a page may download before the popup shows:
// loader and popup, gzipped (issue 4).
const BudgetGzip = 6 * 1024

// Minify builds one script from src/ the way dist/ holds it: minified for
// the browsers shoppers use (ES2017 covers current Chrome, Firefox, Safari
// and a few years back).
func Minify(name string) ([]byte, error) {
	src, err := sources.ReadFile(path.Join("src", name))
	if err != nil {
		return nil, fmt.Errorf("read widget source %s: %w", name, err)
	}
	res := api.Transform(string(src), api.TransformOptions{
		Loader: api.LoaderJS, Target: api.ES2017, Sourcefile: name,
		MinifyWhitespace: true, MinifyIdentifiers: true, MinifySyntax: true,
		LegalComments: api.LegalCommentsNone, Charset: api.CharsetUTF8,
	})
	if len(res.Errors) > 0 {
		m := res.Errors[0]
		line := 0
		if m.Location != nil {
			line = m.Location.Line
		}
		return nil, fmt.Errorf("minify %s:%d: %s", name, line, m.Text)
	}
	return res.Code, nil
}

// GzipSize is the size of b gzipped at the level the server uses.
func GzipSize(b []byte) int {
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(b)
	_ = zw.Close()
	return buf.Len()
}
