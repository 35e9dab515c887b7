package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gorm.io/gorm"

	"github.com/parrain/parrain/app"
	"github.com/parrain/parrain/app/campaigns"
)

// CampaignRepo implements campaigns.Repo and campaigns.SyncRepo. Every
// query is scoped by shop id.
type CampaignRepo struct{ db *DB }

var (
	_ campaigns.Repo     = (*CampaignRepo)(nil)
	_ campaigns.SyncRepo = (*CampaignRepo)(nil)
)

// Campaigns returns the campaigns' storage.
func (db *DB) Campaigns() *CampaignRepo { return &CampaignRepo{db: db} }

type campaignRow struct {
	ID       int64
	ShopID   int64
	Name     string
	StartsAt time.Time
	EndsAt   time.Time
	Mode     string
	Friend   []byte
	Reward   []byte
}

const campaignCols = `id, shop_id, name, starts_at, ends_at, mode, friend, reward`

func (r campaignRow) toCampaign() (app.Campaign, error) {
	c := app.Campaign{ID: r.ID, ShopID: r.ShopID, Name: r.Name, Start: r.StartsAt, End: r.EndsAt, Mode: r.Mode}
	for _, side := range []struct {
		raw []byte
		dst **app.Offer
	}{{r.Friend, &c.Friend}, {r.Reward, &c.Reward}} {
		if len(side.raw) == 0 || string(side.raw) == "null" {
			continue
		}
		var o app.Offer
		if err := json.Unmarshal(side.raw, &o); err != nil {
			return c, fmt.Errorf("campaign %d: offer: %w", r.ID, err)
		}
		*side.dst = &o
	}
	return c, nil
}

func offerJSON(o *app.Offer) any {
	if o == nil {
		return nil
	}
	b, _ := json.Marshal(o)
	return string(b)
}

func toCampaigns(rows []campaignRow) ([]app.Campaign, error) {
	out := make([]app.Campaign, 0, len(rows))
	for _, r := range rows {
		c, err := r.toCampaign()
		if err != nil {
			return nil, err
		}
		out = append(out, c)
	}
	return out, nil
}

// Campaigns implements campaigns.Repo.
func (c *CampaignRepo) Campaigns(ctx context.Context, shopID int64, endingAfter time.Time) ([]app.Campaign, error) {
	var rows []campaignRow
	q := c.db.gorm.WithContext(ctx).Raw(`SELECT `+campaignCols+` FROM campaigns WHERE shop_id = ? AND ends_at > ? ORDER BY starts_at, id`,
		shopID, endingAfter)
	if err := q.Scan(&rows).Error; err != nil {
		return nil, unavailable(err, fmt.Sprintf("list campaigns of shop %d", shopID))
	}
	return toCampaigns(rows)
}

// CampaignAt implements campaigns.Repo: start included, end excluded.
func (c *CampaignRepo) CampaignAt(ctx context.Context, shopID int64, t time.Time) (*app.Campaign, error) {
	var rows []campaignRow
	err := c.db.gorm.WithContext(ctx).Raw(`SELECT `+campaignCols+` FROM campaigns WHERE shop_id = ? AND starts_at <= ? AND ends_at > ?
		ORDER BY starts_at LIMIT 1`, shopID, t, t).Scan(&rows).Error
	if err != nil {
		return nil, unavailable(err, fmt.Sprintf("campaign of shop %d at %s", shopID, t.UTC().Format(time.RFC3339)))
	}
	if len(rows) == 0 {
		return nil, nil
	}
	out, err := rows[0].toCampaign()
	return &out, err
}

// SaveCampaign implements campaigns.Repo. The shop's campaigns are
// serialised by a transaction-scoped advisory lock: the overlap check and
// the write are one step for concurrent saves.
func (c *CampaignRepo) SaveCampaign(ctx context.Context, cp *app.Campaign, check func(others []app.Campaign) error) error {
	err := c.db.gorm.WithContext(ctx).Transaction(func(tx *gorm.DB) error {
		if err := tx.Exec(`SELECT pg_advisory_xact_lock(hashtextextended('parrain campaigns ' || ?::bigint, 0))`, cp.ShopID).Error; err != nil {
			return err
		}
		var rows []campaignRow
		if err := tx.Raw(`SELECT `+campaignCols+` FROM campaigns WHERE shop_id = ? AND id <> ?`, cp.ShopID, cp.ID).Scan(&rows).Error; err != nil {
			return err
		}
		others, err := toCampaigns(rows)
		if err != nil {
			return err
		}
		if err := check(others); err != nil {
			return err
		}
		if cp.ID == 0 {
			return tx.Raw(`INSERT INTO campaigns (shop_id, name, starts_at, ends_at, mode, friend, reward) VALUES (?, ?, ?, ?, ?, ?, ?) RETURNING id`,
				cp.ShopID, cp.Name, cp.Start, cp.End, cp.Mode, offerJSON(cp.Friend), offerJSON(cp.Reward)).Scan(&cp.ID).Error
		}
		res := tx.Exec(`UPDATE campaigns SET name = ?, starts_at = ?, ends_at = ?, mode = ?, friend = ?, reward = ?, updated_at = now()
			WHERE id = ? AND shop_id = ?`, cp.Name, cp.Start, cp.End, cp.Mode, offerJSON(cp.Friend), offerJSON(cp.Reward), cp.ID, cp.ShopID)
		if res.Error == nil && res.RowsAffected == 0 {
			return app.Errorf(app.ENOTFOUND, "no campaign %d in this shop", cp.ID)
		}
		return res.Error
	})
	if app.ErrorCode(err) != app.EINTERNAL {
		return err
	}
	return unavailable(err, fmt.Sprintf("save campaign of shop %d", cp.ShopID))
}

// DeleteCampaign implements campaigns.Repo.
func (c *CampaignRepo) DeleteCampaign(ctx context.Context, shopID, id int64) (*app.Campaign, error) {
	var rows []campaignRow
	err := c.db.gorm.WithContext(ctx).Raw(`DELETE FROM campaigns WHERE id = ? AND shop_id = ? RETURNING `+campaignCols, id, shopID).Scan(&rows).Error
	if err != nil {
		return nil, unavailable(err, fmt.Sprintf("delete campaign %d", id))
	}
	if len(rows) == 0 {
		return nil, app.Errorf(app.ENOTFOUND, "no campaign %d in this shop", id)
	}
	out, err := rows[0].toCampaign()
	return &out, err
}

type offerStateRow struct {
	ID       int64
	OfferKey string
	StoreRef string
	Spec     []byte
	Terms    []byte
	Applied  []byte
}

func specPtr(raw []byte) (*app.DiscountSpec, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var d app.DiscountSpec
	if err := json.Unmarshal(raw, &d); err != nil {
		return nil, err
	}
	return &d, nil
}

func specJSON(d *app.DiscountSpec) any {
	if d == nil {
		return nil
	}
	b, _ := json.Marshal(d)
	return string(b)
}

// FriendOffers implements campaigns.SyncRepo.
func (c *CampaignRepo) FriendOffers(ctx context.Context, shopID int64) ([]campaigns.OfferState, error) {
	var rows []offerStateRow
	err := c.db.gorm.WithContext(ctx).Raw(`SELECT id, offer_key, store_ref, spec, terms, applied FROM friend_offers WHERE shop_id = ? ORDER BY id`,
		shopID).Scan(&rows).Error
	if err != nil {
		return nil, unavailable(err, fmt.Sprintf("list friend offers of shop %d", shopID))
	}
	out := make([]campaigns.OfferState, 0, len(rows))
	for _, r := range rows {
		o := campaigns.OfferState{ID: r.ID, Offer: app.FriendOffer{Key: r.OfferKey, Ref: r.StoreRef}}
		if err := json.Unmarshal(r.Spec, &o.Offer.Spec); err != nil {
			return nil, fmt.Errorf("offer %s: terms: %w", r.OfferKey, err)
		}
		var err1, err2 error
		o.Terms, err1 = specPtr(r.Terms)
		o.Applied, err2 = specPtr(r.Applied)
		if err := errors.Join(err1, err2); err != nil {
			return nil, fmt.Errorf("offer %s: campaign terms: %w", r.OfferKey, err)
		}
		out = append(out, o)
	}
	return out, nil
}

// SetOfferTerms implements campaigns.SyncRepo.
func (c *CampaignRepo) SetOfferTerms(ctx context.Context, shopID, offerID int64, terms *app.DiscountSpec) error {
	err := c.db.gorm.WithContext(ctx).Exec(`UPDATE friend_offers SET terms = ? WHERE id = ? AND shop_id = ?`, specJSON(terms), offerID, shopID).Error
	return unavailable(err, fmt.Sprintf("record the terms of friend offer %d", offerID))
}

// OfferCodeRefs implements campaigns.SyncRepo: the codes the store holds,
// and the database's clock when they were read.
func (c *CampaignRepo) OfferCodeRefs(ctx context.Context, shopID int64, offerKey string) ([]string, time.Time, error) {
	// The list comes as JSON text: gorm left an untagged pq.StringArray
	// field of the scanned struct empty (read as a relation, not a
	// column), and an empty list was a sync that told WooCommerce to
	// change nothing (TestCampaignSyncEdges).
	var out struct {
		Refs string
		At   time.Time
	}
	err := c.db.gorm.WithContext(ctx).Raw(`SELECT COALESCE((SELECT json_agg(friend_code_ref ORDER BY id) FROM advocates WHERE shop_id = ? AND friend_offer_key = ?
		AND friend_code_state = 'created' AND friend_code_ref <> ''), '[]')::text AS refs, now() AS at`, shopID, offerKey).Scan(&out).Error
	if err != nil {
		return nil, time.Time{}, unavailable(err, fmt.Sprintf("list the codes of friend offer %s", offerKey))
	}
	var refs []string
	if err := json.Unmarshal([]byte(out.Refs), &refs); err != nil {
		return nil, time.Time{}, fmt.Errorf("list the codes of friend offer %s: %w", offerKey, err)
	}
	return refs, out.At, nil
}

// MarkOfferApplied implements campaigns.SyncRepo: not while a batch of the
// offer is open, nor when one closed after the codes were listed (its
// codes were not in the list, and may carry the old terms).
func (c *CampaignRepo) MarkOfferApplied(ctx context.Context, shopID, offerID int64, terms *app.DiscountSpec, listedAt time.Time) (bool, error) {
	res := c.db.gorm.WithContext(ctx).Exec(`UPDATE friend_offers o SET applied = ? WHERE o.id = ? AND o.shop_id = ?
		AND NOT EXISTS (SELECT 1 FROM friend_code_batches b WHERE b.offer_id = o.id AND (b.done_at IS NULL OR b.done_at >= ?))`,
		specJSON(terms), offerID, shopID, listedAt)
	if res.Error != nil {
		return false, unavailable(res.Error, fmt.Sprintf("mark friend offer %d applied", offerID))
	}
	return res.RowsAffected == 1, nil
}

// ShopsToSync lists shops whose friend offers may not give what the
// campaign in force says: a campaign with a friend side running, or an
// offer still set to a campaign's terms.
func (c *CampaignRepo) ShopsToSync(ctx context.Context, now time.Time, limit int) ([]int64, error) {
	var ids []int64
	err := c.db.gorm.WithContext(ctx).Raw(`SELECT shop_id FROM friend_offers WHERE applied IS NOT NULL OR terms IS NOT NULL
		UNION SELECT c.shop_id FROM campaigns c WHERE c.friend IS NOT NULL AND c.starts_at <= ? AND c.ends_at > ?
			AND EXISTS (SELECT 1 FROM friend_offers o WHERE o.shop_id = c.shop_id)
		LIMIT ?`, now, now, limit).Scan(&ids).Error
	return ids, unavailable(err, "list shops whose friend offers follow a campaign")
}
