package postgres

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/lib/pq"
	"gorm.io/gorm"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/friendcodes"
)

// FriendCodeRepo implements friendcodes.Repo: batches of friend codes, one
// row per code (the advocate's), one row per batch. Every query is scoped
// by shop id or by a batch that belongs to one shop.
type FriendCodeRepo struct{ db *DB }

var _ friendcodes.Repo = (*FriendCodeRepo)(nil)

// FriendCodes returns the batching stage's storage.
func (db *DB) FriendCodes() *FriendCodeRepo { return &FriendCodeRepo{db: db} }

// QueueFriendCode implements referrals.Repo: the offer row is made once
// (first terms kept), the pending code joins its line.
func (r *ReferralRepo) QueueFriendCode(ctx context.Context, adv *app.Advocate, offer app.FriendOffer) error {
	spec, err := json.Marshal(offer.Spec)
	if err != nil {
		return err
	}
	// One statement, so one round trip and one commit for every new
	// advocate: the offer row (made once, its first terms kept) and the
	// code in its line become visible together.
	err = r.db.gorm.WithContext(ctx).Exec(`WITH offer AS (
			INSERT INTO friend_offers (shop_id, offer_key, spec)
			SELECT ?::bigint, ?::text, ?::jsonb WHERE NOT EXISTS (SELECT 1 FROM friend_offers WHERE shop_id = ? AND offer_key = ?)
			ON CONFLICT (shop_id, offer_key) DO NOTHING)
		UPDATE advocates SET friend_offer_key = ? WHERE id = ? AND shop_id = ? AND friend_code_state = 'pending' AND friend_offer_key = ''`,
		adv.ShopID, offer.Key, string(spec), adv.ShopID, offer.Key, offer.Key, adv.ID, adv.ShopID).Error
	return unavailable(err, fmt.Sprintf("queue friend code of advocate %d", adv.ID))
}

type batchRow struct {
	ID        int64
	ShopID    int64
	OfferID   int64
	Operation string
	SentAt    *time.Time
	OfferKey  string
	StoreRef  string
	Spec      []byte
}

// NextBatch implements friendcodes.Repo. An unfinished batch (a dead
// worker's, or one waiting for its bulk operation) comes first, so a
// batch's codes are never in two batches; then a new one of the oldest
// offer's waiting codes, oldest first. Both in one transaction under row
// locks (SKIP LOCKED): two workers never take the same batch or code.
func (f *FriendCodeRepo) NextBatch(ctx context.Context, shopID int64, limit int, lease time.Duration) (*friendcodes.Batch, error) {
	var out *friendcodes.Batch
	err := f.db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		var row batchRow
		// The offer's terms are a campaign's while one runs (terms, set
		// by app/campaigns' sync), else its own.
		const cols = `b.id, b.shop_id, b.offer_id, b.operation, b.sent_at, o.offer_key, o.store_ref, COALESCE(o.terms, o.spec) AS spec`
		err := tx.Raw(`SELECT `+cols+` FROM friend_code_batches b JOIN friend_offers o ON o.id = b.offer_id
			WHERE b.shop_id = ? AND b.done_at IS NULL AND (b.leased_until IS NULL OR b.leased_until < now())
			ORDER BY b.id LIMIT 1 FOR UPDATE OF b SKIP LOCKED`, shopID).Scan(&row).Error
		if err != nil {
			return err
		}
		if row.ID == 0 {
			var key string
			if err := tx.Raw(`SELECT friend_offer_key FROM advocates WHERE shop_id = ? AND friend_code_state = 'pending' AND friend_offer_key <> ''
				ORDER BY id LIMIT 1`, shopID).Scan(&key).Error; err != nil || key == "" {
				return err
			}
			if err := tx.Raw(`INSERT INTO friend_code_batches (shop_id, offer_id)
				SELECT shop_id, id FROM friend_offers WHERE shop_id = ? AND offer_key = ? RETURNING id`, shopID, key).Scan(&row.ID).Error; err != nil {
				return err
			}
			res := tx.Exec(`UPDATE advocates SET friend_code_state = 'creating', friend_batch_id = ? WHERE id IN (
				SELECT id FROM advocates WHERE shop_id = ? AND friend_code_state = 'pending' AND friend_offer_key = ?
				ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED)`, row.ID, shopID, key, limit)
			if res.Error != nil {
				return res.Error
			}
			if err := tx.Raw(`SELECT `+cols+` FROM friend_code_batches b JOIN friend_offers o ON o.id = b.offer_id WHERE b.id = ?`, row.ID).Scan(&row).Error; err != nil {
				return err
			}
		}
		if err := tx.Exec(`UPDATE friend_code_batches SET leased_until = now() + ? * interval '1 millisecond' WHERE id = ?`,
			lease.Milliseconds(), row.ID).Error; err != nil {
			return err
		}
		b := &friendcodes.Batch{ID: row.ID, ShopID: row.ShopID, OfferID: row.OfferID, Operation: row.Operation, Sent: row.SentAt != nil,
			Offer: app.FriendOffer{Key: row.OfferKey, Ref: row.StoreRef}}
		if err := json.Unmarshal(row.Spec, &b.Offer.Spec); err != nil {
			return fmt.Errorf("offer %s: terms: %w", row.OfferKey, err)
		}
		if err := tx.Raw(`SELECT friend_code FROM advocates WHERE friend_batch_id = ? AND shop_id = ? AND friend_code_state = 'creating' ORDER BY id`,
			row.ID, shopID).Scan(&b.Codes).Error; err != nil {
			return err
		}
		out = b
		return nil
	})
	return out, unavailable(err, fmt.Sprintf("take a friend code batch of shop %d", shopID))
}

// MarkSent implements friendcodes.Repo.
func (f *FriendCodeRepo) MarkSent(ctx context.Context, batchID int64) error {
	err := f.db.gorm.WithContext(ctx).Exec(`UPDATE friend_code_batches SET sent_at = now() WHERE id = ? AND sent_at IS NULL`, batchID).Error
	return unavailable(err, fmt.Sprintf("mark friend code batch %d sent", batchID))
}

// SetOfferRef implements friendcodes.Repo.
func (f *FriendCodeRepo) SetOfferRef(ctx context.Context, offerID int64, ref string) error {
	err := f.db.gorm.WithContext(ctx).Exec(`UPDATE friend_offers SET store_ref = ? WHERE id = ?`, ref, offerID).Error
	return unavailable(err, fmt.Sprintf("record the discount of offer %d", offerID))
}

// SetOperation implements friendcodes.Repo.
func (f *FriendCodeRepo) SetOperation(ctx context.Context, batchID int64, op string) error {
	err := f.db.gorm.WithContext(ctx).Exec(`UPDATE friend_code_batches SET operation = ? WHERE id = ?`, op, batchID).Error
	return unavailable(err, fmt.Sprintf("record the operation of friend code batch %d", batchID))
}

// RecordOutcomes implements friendcodes.Repo: one statement for the whole
// batch; only the batch's codes still creating change.
func (f *FriendCodeRepo) RecordOutcomes(ctx context.Context, batchID int64, outcomes []app.CodeOutcome) error {
	if len(outcomes) == 0 {
		return nil
	}
	codes, refs, errs := make([]string, len(outcomes)), make([]string, len(outcomes)), make([]string, len(outcomes))
	for i, o := range outcomes {
		codes[i], refs[i], errs[i] = app.NormalizeCode(o.Code), o.Ref, o.Err
	}
	err := f.db.gorm.WithContext(ctx).Exec(`UPDATE advocates a SET
			friend_code_state = CASE WHEN x.ref <> '' THEN 'created' ELSE 'failed' END,
			friend_code_ref = x.ref, friend_code_error = x.err
		FROM unnest(?::text[], ?::text[], ?::text[]) AS x(code, ref, err)
		WHERE a.friend_batch_id = ? AND a.friend_code_state = 'creating' AND a.friend_code = x.code AND (x.ref <> '' OR x.err <> '')`,
		pq.StringArray(codes), pq.StringArray(refs), pq.StringArray(errs), batchID).Error
	return unavailable(err, fmt.Sprintf("record friend code batch %d", batchID))
}

// FinishBatch implements friendcodes.Repo.
func (f *FriendCodeRepo) FinishBatch(ctx context.Context, batchID int64) error {
	err := f.db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`UPDATE advocates SET friend_code_state = 'pending', friend_batch_id = NULL
			WHERE friend_batch_id = ? AND friend_code_state = 'creating'`, batchID).Error; err != nil {
			return err
		}
		return tx.Exec(`UPDATE friend_code_batches SET done_at = now(), leased_until = NULL WHERE id = ?`, batchID).Error
	})
	return unavailable(err, fmt.Sprintf("finish friend code batch %d", batchID))
}

// ReleaseBatch implements friendcodes.Repo.
func (f *FriendCodeRepo) ReleaseBatch(ctx context.Context, batchID int64) error {
	err := f.db.gorm.WithContext(ctx).Exec(`UPDATE friend_code_batches SET leased_until = NULL WHERE id = ?`, batchID).Error
	return unavailable(err, fmt.Sprintf("release friend code batch %d", batchID))
}

// ShopsWithWaitingCodes lists shops with a friend code pending since
// before the time, or a batch left unfinished with its lease run out (a
// flush job lost with Redis, or its worker gone).
func (f *FriendCodeRepo) ShopsWithWaitingCodes(ctx context.Context, before time.Time, limit int) ([]int64, error) {
	var ids []int64
	err := f.db.gorm.WithContext(ctx).Raw(`SELECT shop_id FROM advocates WHERE friend_code_state = 'pending' AND friend_offer_key <> '' AND created_at < ?
		UNION SELECT shop_id FROM friend_code_batches WHERE done_at IS NULL AND (leased_until IS NULL OR leased_until < now())
		LIMIT ?`, before, limit).Scan(&ids).Error
	return ids, unavailable(err, "list shops with waiting friend codes")
}
