package postgres

import (
	"context"

	"github.com/parrain/parrain/app/analytics"
)

// SetTopScan sets the bounded scan's step and limit for a test; it returns
// a function that puts them back.
func SetTopScan(batch, limit int) func() {
	b, l := topScanBatch, topScanMax
	topScanBatch, topScanMax = batch, limit
	return func() { topScanBatch, topScanMax = b, l }
}

// TopAdvocates is ConsoleRepo.topAdvocates: long reads by the bounds.
func (r *ConsoleRepo) TopAdvocates(ctx context.Context, shopID int64, from, to string, long bool) ([]analytics.Advocate, error) {
	return r.topAdvocates(ctx, shopID, from, to, long)
}
