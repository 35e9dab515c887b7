package review

import (
	"context"
	"sort"
	"time"

	"github.com/parrain/parrain/app"
)

// Event is one line of a referral's timeline: what happened, when, and who
// did it ("" for Parrain itself). Kind names the message ("event."+Kind in
// the console's catalogue); Detail is a value the message shows (a code, a
// date, a reason), Note a free text (a staff reason, a store's answer).
type Event struct {
	At     time.Time `json:"at"`
	Kind   string    `json:"kind"`
	Actor  string    `json:"actor,omitempty"`
	Detail string    `json:"detail,omitempty"`
	Note   string    `json:"note,omitempty"`
	// Future marks a date still to come (the end of the hold).
	Future bool `json:"future,omitempty"`
}

// EventSource adds events to timelines: the emails sent to the advocate,
// the outgoing events delivered… Each is read for one referral of one
// shop.
type EventSource interface {
	Events(ctx context.Context, shopID, referralID int64) ([]Event, error)
}

// auditKinds are the audit actions a timeline shows, by event kind.
var auditKinds = map[string]string{
	"approve": "approved_by_staff", "reject": "rejected", "attribute": "attributed_by_hand",
	"reissue_reward": "reward_reissued", "revoke_reward": "reward_revoked", "note": "note",
	"approve_due": "approved_by_run", "reverse": "reversed", "flag": "flagged",
	"rule_change":       "changed_by_rules", // the replay's apply (app/referrals/replay.go)
	"milestone_reached": "milestone_reached", "milestone_review": "milestone_review",
}

// Timeline puts together what the referral's rows say happened, its audit
// lines (staff and the engine) and extra events, oldest first.
func Timeline(d *Detail, extra ...Event) []Event {
	var out []Event
	if !d.OrderedAt.IsZero() {
		out = append(out, Event{At: d.OrderedAt, Kind: "order_placed", Detail: d.OrderName})
	}
	manual := false
	for _, a := range d.Audit {
		manual = manual || a.Action == "attribute"
	}
	if !manual {
		out = append(out, Event{At: d.CreatedAt, Kind: "attributed", Detail: d.EvidenceKind})
	}
	for _, a := range d.Audit {
		kind, ok := auditKinds[a.Action]
		if !ok {
			continue
		}
		e := Event{At: a.At, Kind: kind, Actor: a.Actor, Note: a.Reason}
		if a.Action == "note" {
			if m, ok := a.After.(map[string]any); ok {
				e.Note, _ = m["note"].(string)
			}
		}
		out = append(out, e)
	}
	switch d.State {
	case app.ReferralPending, app.ReferralNeedsReview:
		out = append(out, Event{At: d.HoldUntil, Kind: "held_until", Future: d.HoldUntil.After(time.Now())})
	}
	if rw := d.Reward; rw != nil {
		if d.RewardCreatedAt != nil {
			out = append(out, Event{At: *d.RewardCreatedAt, Kind: "reward_created", Detail: rw.Code})
		}
		if d.RewardIssuedAt != nil {
			out = append(out, Event{At: *d.RewardIssuedAt, Kind: "reward_in_store", Detail: rw.Code})
		}
		if rw.State == app.RewardFailed {
			at := time.Time{}
			if d.RewardCreatedAt != nil {
				at = *d.RewardCreatedAt
			}
			out = append(out, Event{At: at, Kind: "reward_failed", Detail: rw.Code, Note: rw.Error})
		}
	}
	out = append(out, extra...)
	sort.SliceStable(out, func(i, j int) bool { return out[i].At.Before(out[j].At) })
	return out
}
