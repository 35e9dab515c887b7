package experiment

import (
	"math"
	"strings"
	"testing"
)

func TestAssignIsStableAndFollowsTheSplit(t *testing.T) {
	for _, share := range []float64{0.5, 0.3, 0.9} {
		var b int
		const n = 10000
		for id := int64(1); id <= n; id++ {
			arm := Assign("shop-1/test-7", id, share)
			if again := Assign("shop-1/test-7", id, share); again != arm {
				t.Fatalf("advocate %d: %s then %s", id, arm, again)
			}
			if arm == ArmB {
				b++
			}
		}
		if got := float64(b) / n; math.Abs(got-share) > 0.02 {
			t.Errorf("share %.2f: %.4f of advocates in B", share, got)
		}
	}
	// Another test reshuffles: the arms are not the same advocates each time.
	same := 0
	for id := int64(1); id <= 1000; id++ {
		if Assign("t1", id, 0.5) == Assign("t2", id, 0.5) {
			same++
		}
	}
	if same < 400 || same > 600 {
		t.Errorf("%d of 1000 advocates in the same arm of two tests", same)
	}
}

func near(a, b float64) bool { return math.Abs(a-b) < 0.0005 }

func TestWilsonAndNewcombeMatchPublishedValues(t *testing.T) {
	// Newcombe (1998), Stat Med 17:857, table I and table II example (a).
	cases := []struct {
		x, n   int64
		lo, hi float64
	}{
		{0, 10, 0, 0.2775},
		{5, 10, 0.2366, 0.7634},
		{81, 263, 0.2553, 0.3662},
	}
	for _, c := range cases {
		lo, hi := wilson(c.x, c.n)
		if !near(lo, c.lo) || !near(hi, c.hi) {
			t.Errorf("wilson(%d/%d) = %.4f–%.4f, want %.4f–%.4f", c.x, c.n, lo, hi, c.lo, c.hi)
		}
	}
	iv := newcombe(48, 80, 56, 70)
	if !near(iv.Diff, 0.2) || !near(iv.Low, 0.0524) || !near(iv.High, 0.3339) {
		t.Errorf("newcombe 56/70 − 48/80 = %+v, want 0.2000 (0.0524, 0.3339)", iv)
	}
}

func TestJudge(t *testing.T) {
	cases := []struct {
		name    string
		goal    string
		a, b    Counts
		winner  Arm
		verdict string
	}{
		{"B clearly converts better", GoalConversion,
			Counts{Advocates: 500, Clicks: 1000, Orders: 25, ClickOrders: 20},
			Counts{Advocates: 500, Clicks: 1000, Orders: 70, ClickOrders: 60}, ArmB, "B converts better, 95% confident"},
		{"A clearly converts better", GoalConversion,
			Counts{Advocates: 500, Clicks: 800, Orders: 90, ClickOrders: 80},
			Counts{Advocates: 500, Clicks: 800, Orders: 40, ClickOrders: 30}, ArmA, "A converts better, 95% confident"},
		{"too close to call", GoalConversion,
			Counts{Advocates: 100, Clicks: 300, Orders: 12, ClickOrders: 10},
			Counts{Advocates: 100, Clicks: 300, Orders: 13, ClickOrders: 11}, "", "not enough data yet: ~"},
		{"no clicks yet", GoalConversion, Counts{Advocates: 3}, Counts{Advocates: 2}, "", "not enough data yet"},
		{"net revenue: too few advocates", GoalNetPerAdvocate,
			Counts{Advocates: 10, RevenueMinor: 100000}, Counts{Advocates: 12, RevenueMinor: 900000}, "", "not enough data yet: ~38 more advocates needed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := Judge(c.goal, c.a, c.b)
			if err != nil {
				t.Fatal(err)
			}
			if r.Winner != c.winner {
				t.Errorf("winner %q, want %q (%+v)", r.Winner, c.winner, r.Delta)
			}
			if !strings.HasPrefix(r.Verdict(), c.verdict) {
				t.Errorf("verdict %q, want it to start with %q", r.Verdict(), c.verdict)
			}
		})
	}
}

// Net revenue per advocate with a known answer: every B advocate brings
// 20.00 more than every A advocate, with the same spread.
func TestJudgeNetPerAdvocate(t *testing.T) {
	arm := func(n int, base int64) Counts {
		var c Counts
		for i := 0; i < n; i++ {
			net := base + int64(i%5)*100 // spread 0–4.00
			c.Advocates++
			c.RevenueMinor += net
			c.NetSquaresMinor += float64(net) * float64(net)
		}
		return c
	}
	r, err := Judge(GoalNetPerAdvocate, arm(60, 1000), arm(60, 3000))
	if err != nil {
		t.Fatal(err)
	}
	if r.Winner != ArmB || !near(r.Delta.Diff, 2000) {
		t.Fatalf("got %+v", r)
	}
	r, _ = Judge(GoalNetPerAdvocate, arm(60, 1000), arm(60, 1010))
	if r.Winner != "" || r.MoreNeeded <= 0 {
		t.Fatalf("a 0.10 difference with a 1.41 spread over 60 advocates: %+v", r)
	}
}

func TestJudgeRefusesImpossibleCounts(t *testing.T) {
	for _, c := range []Counts{
		{Clicks: 5, Orders: 3, ClickOrders: 6},
		{Clicks: 2, Orders: 9, ClickOrders: 3},
		{Advocates: -1},
	} {
		if _, err := Judge(GoalConversion, Counts{Clicks: 1}, c); err == nil {
			t.Errorf("%+v accepted", c)
		}
	}
	if _, err := Judge("revenue", Counts{}, Counts{}); err == nil {
		t.Error("unknown goal accepted")
	}
}
