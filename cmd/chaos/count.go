package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// report is what the run counted.
type report struct {
	Acknowledged, Stored, Processed        int
	DuplicateRows, ReprocessedEvents       int
	Advocates, AdvocatesExpected           int
	FriendCodes, FriendCodesInSim          int
	Referrals, ReferralsExpected, Rewarded int
	Rewards, RewardsIssued, RewardCodesSim int
	DoubleAdvocates, DoubleReferrals       int
	SimCodesNotOurs, SimCodesDoubled       int
	Drain                                  time.Duration
	Problems                               []string
}

// OK is true when nothing was lost or doubled.
func (r *report) OK() bool { return len(r.Problems) == 0 }

func (r *report) print(out io.Writer) {
	fmt.Fprintf(out, "chaos: events     acknowledged %d, stored %d, processed %d (%d duplicate rows; %d events run more than once, harmless: handlers are idempotent)\n",
		r.Acknowledged, r.Stored, r.Processed, r.DuplicateRows, r.ReprocessedEvents)
	fmt.Fprintf(out, "chaos: advocates  %d of %d buyers, friend codes created %d, friend codes in the simulator %d\n",
		r.Advocates, r.AdvocatesExpected, r.FriendCodes, r.FriendCodesInSim)
	fmt.Fprintf(out, "chaos: referrals  %d of %d friends' orders, rewarded %d; rewards %d, issued %d, reward codes in the simulator %d\n",
		r.Referrals, r.ReferralsExpected, r.Rewarded, r.Rewards, r.RewardsIssued, r.RewardCodesSim)
	lost := max(0, r.Acknowledged-r.Processed) + max(0, r.AdvocatesExpected-r.Advocates) + max(0, r.ReferralsExpected-r.Referrals) +
		max(0, r.Referrals-r.RewardsIssued) + max(0, r.Advocates-r.FriendCodesInSim) + max(0, r.RewardsIssued-r.RewardCodesSim)
	doubled := r.DuplicateRows + r.DoubleAdvocates + r.DoubleReferrals + r.SimCodesDoubled + r.SimCodesNotOurs +
		max(0, r.Stored-r.Acknowledged) + max(0, r.RewardCodesSim-r.RewardsIssued) + max(0, r.Rewards-r.Referrals)
	fmt.Fprintf(out, "chaos: lost %d, doubled %d, drain %v\n", lost, doubled, r.Drain.Round(time.Millisecond))
	if r.OK() {
		fmt.Fprintln(out, "chaos: PASS: nothing lost, nothing doubled")
		return
	}
	for _, p := range r.Problems {
		fmt.Fprintln(out, "chaos: FAIL:", p)
	}
}

func (w *world) scalar(ctx context.Context, q string, args ...any) (int, error) {
	var n int
	qctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	err := w.db.QueryRowContext(qctx, q, args...).Scan(&n)
	return n, err
}

// waitDrain waits until every acknowledged event is processed and every
// friend's referral is rewarded with an issued reward, and returns how long
// that took.
func (w *world) waitDrain(ctx context.Context, d *driver) (time.Duration, error) {
	t0 := time.Now()
	deadline := t0.Add(w.o.DrainTimeout)
	for time.Now().Before(deadline) {
		unprocessed, err1 := w.scalar(ctx, "SELECT count(*) FROM webhook_events WHERE processed_at IS NULL")
		issued, err2 := w.scalar(ctx, "SELECT count(*) FROM rewards WHERE state = 'issued'")
		pending, err3 := w.scalar(ctx, "SELECT count(*) FROM advocates WHERE friend_code_state <> 'created'")
		if err1 == nil && err2 == nil && err3 == nil && unprocessed == 0 && pending == 0 && issued >= d.friends {
			return time.Since(t0), nil
		}
		select {
		case <-ctx.Done():
			return time.Since(t0), ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
	return time.Since(t0), fmt.Errorf("backlog not drained within %v", w.o.DrainTimeout)
}

// count compares what was acknowledged with what is stored, processed and
// in the store (the simulator).
func (w *world) count(ctx context.Context, d *driver) (*report, error) {
	r := &report{AdvocatesExpected: d.advocates + d.friends, ReferralsExpected: d.friends}
	d.mu.Lock()
	r.Acknowledged = len(d.acked)
	d.mu.Unlock()
	queries := []struct {
		dst *int
		q   string
	}{
		{&r.Stored, "SELECT count(DISTINCT event_id) FROM webhook_events WHERE event_id LIKE 'chaos-%'"},
		{&r.DuplicateRows, "SELECT count(*) - count(DISTINCT (shop_id, event_id)) FROM webhook_events"},
		{&r.Processed, "SELECT count(DISTINCT event_id) FROM webhook_events WHERE event_id LIKE 'chaos-%' AND processed_at IS NOT NULL"},
		{&r.ReprocessedEvents, "SELECT count(*) FROM webhook_events WHERE attempts > 1"},
		{&r.Advocates, "SELECT count(DISTINCT customer_id) FROM advocates"},
		{&r.DoubleAdvocates, "SELECT count(*) - count(DISTINCT (shop_id, customer_id)) FROM advocates"},
		{&r.FriendCodes, "SELECT count(*) FROM advocates WHERE friend_code_state = 'created'"},
		{&r.Referrals, "SELECT count(DISTINCT order_id) FROM referrals"},
		{&r.DoubleReferrals, "SELECT count(*) - count(DISTINCT order_id) FROM referrals"},
		{&r.Rewarded, "SELECT count(*) FROM referrals WHERE state = 'rewarded'"},
		{&r.Rewards, "SELECT count(*) FROM rewards"},
		{&r.RewardsIssued, "SELECT count(*) FROM rewards WHERE state = 'issued'"},
	}
	for _, q := range queries {
		n, err := w.scalar(ctx, q.q)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", q.q, err)
		}
		*q.dst = n
	}
	friendCodes, err := w.codeSet(ctx, "SELECT friend_code FROM advocates")
	if err != nil {
		return nil, err
	}
	rewardCodes, err := w.codeSet(ctx, "SELECT code FROM rewards")
	if err != nil {
		return nil, err
	}
	resp, err := http.Get(w.simURL + "/_sim/shops/" + shopName + "/discounts")
	if err != nil {
		return nil, err
	}
	var discounts []struct {
		Code string `json:"code"`
	}
	err = json.NewDecoder(resp.Body).Decode(&discounts)
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("simulator discounts: %w", err)
	}
	seen := map[string]int{}
	for _, x := range discounts {
		c := strings.ToUpper(x.Code)
		seen[c]++
		switch {
		case seen[c] > 1:
			r.SimCodesDoubled++
		case friendCodes[c]:
			r.FriendCodesInSim++
		case rewardCodes[c]:
			r.RewardCodesSim++
		default:
			r.SimCodesNotOurs++
		}
	}
	check := func(ok bool, format string, args ...any) {
		if !ok {
			r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
		}
	}
	check(r.Acknowledged == d.expectedEvents(), "%d events acknowledged, %d sent", r.Acknowledged, d.expectedEvents())
	check(r.Stored == r.Acknowledged, "%d events stored, %d acknowledged", r.Stored, r.Acknowledged)
	check(r.Processed == r.Stored, "%d events processed, %d stored", r.Processed, r.Stored)
	check(r.DuplicateRows == 0, "%d duplicate event rows", r.DuplicateRows)
	check(r.Advocates == r.AdvocatesExpected, "%d advocates, %d buyers", r.Advocates, r.AdvocatesExpected)
	check(r.DoubleAdvocates == 0, "%d doubled advocates", r.DoubleAdvocates)
	check(r.FriendCodes == r.Advocates && r.FriendCodesInSim == r.Advocates, "%d advocates, %d friend codes created, %d in the simulator", r.Advocates, r.FriendCodes, r.FriendCodesInSim)
	check(r.Referrals == r.ReferralsExpected && r.DoubleReferrals == 0, "%d referrals (%d doubled), %d friends' orders", r.Referrals, r.DoubleReferrals, r.ReferralsExpected)
	check(r.Rewarded == r.Referrals && r.Rewards == r.Referrals && r.RewardsIssued == r.Rewards, "%d referrals, %d rewarded, %d rewards, %d issued", r.Referrals, r.Rewarded, r.Rewards, r.RewardsIssued)
	check(r.RewardCodesSim == r.RewardsIssued, "%d rewards issued, %d reward codes in the simulator", r.RewardsIssued, r.RewardCodesSim)
	check(r.SimCodesDoubled == 0 && r.SimCodesNotOurs == 0, "simulator: %d codes doubled, %d codes Parrain does not know", r.SimCodesDoubled, r.SimCodesNotOurs)
	return r, nil
}

func (w *world) codeSet(ctx context.Context, q string) (map[string]bool, error) {
	rows, err := w.db.QueryContext(ctx, q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out[strings.ToUpper(c)] = true
	}
	return out, rows.Err()
}
