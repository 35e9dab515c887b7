package postgres

import (
	"context"
	"time"

	"github.com/parrain/parrain/app"
)

var _ app.SetupSignals = (*ConsoleRepo)(nil)

// Seen implements app.SetupSignals: the first sighting is kept, later ones
// change nothing.
func (r *ConsoleRepo) Seen(ctx context.Context, shopID int64, signal string, at time.Time) error {
	err := r.db.gorm.WithContext(ctx).Exec(`INSERT INTO setup_signals (shop_id, signal, first_seen_at) VALUES (?, ?, ?)
		ON CONFLICT (shop_id, signal) DO NOTHING`, shopID, signal, at.UTC()).Error
	return unavailable(err, "record setup signal")
}

// Signals implements app.SetupSignals.
func (r *ConsoleRepo) Signals(ctx context.Context, shopID int64) (map[string]time.Time, error) {
	var rows []struct {
		Signal      string
		FirstSeenAt time.Time
	}
	if err := r.db.gorm.WithContext(ctx).Raw(`SELECT signal, first_seen_at FROM setup_signals WHERE shop_id = ?`, shopID).Scan(&rows).Error; err != nil {
		return nil, unavailable(err, "read setup signals")
	}
	out := make(map[string]time.Time, len(rows))
	for _, r := range rows {
		out[r.Signal] = r.FirstSeenAt
	}
	return out, nil
}
