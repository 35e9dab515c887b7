package app

import (
	"context"
	"time"
)

// Setup steps a merchant must take in their store for Parrain to work, and
// what is known about each.
const (
	SetupDone    = "done"    // seen done
	SetupTodo    = "todo"    // seen not done
	SetupUnknown = "unknown" // cannot be read; Detail says why
)

// Setup check keys.
const (
	SetupAppEmbed      = "app_embed"       // the storefront script (theme app embed / plugin) is on
	SetupThankYouBlock = "thank_you_block" // the popup's block is placed on the order confirmation page
)

// SetupCheck is one step of the merchant's setup as the store tells it.
type SetupCheck struct {
	Key    string
	State  string
	Detail string // how it is known, or why it is not
	// FixURL is the page of the store's admin where the merchant does the
	// step; empty when there is none.
	FixURL string
}

// StoreSetup reads from the store what the setup checklist needs. It is
// optional for a platform adapter; every check it cannot read it returns
// as SetupUnknown with the reason.
type StoreSetup interface {
	SetupChecks(ctx context.Context, shop *Shop) ([]SetupCheck, error)
}

// Setup signals: facts Parrain saw itself, kept with the first time seen.
const (
	SignalThankYou   = "thank_you_popup"     // the order confirmation page's block asked for a popup
	SignalStorefront = "storefront_launcher" // the storefront script asked for a link
)

// SetupSignals records and reads the setup signals of a shop.
type SetupSignals interface {
	Seen(ctx context.Context, shopID int64, signal string, at time.Time) error
	Signals(ctx context.Context, shopID int64) (map[string]time.Time, error)
}
