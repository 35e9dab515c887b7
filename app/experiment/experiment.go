// Package experiment decides A/B tests of a program's offer: which arm an
// advocate belongs to, and what each arm's figures say.
//
// The statistics are chosen for the sizes a shop's referral program has
// (tens to thousands of advocates, conversion rates of a few percent):
//   - a rate (friends' orders over clicks) is compared with Newcombe's
//     hybrid score interval for the difference of two proportions (method
//     10 in Newcombe 1998, built from Wilson intervals). The Wald interval
//     (p ± z·se) collapses to zero width at 0 or 1 orders and claims
//     certainty it does not have; Newcombe's keeps its coverage close to
//     95% at small counts and never leaves [-1, 1];
//   - an amount per advocate (net referred revenue) is compared with
//     Welch's interval (unequal variances) under the normal approximation,
//     which holds from a few dozen advocates per arm; below MinSample
//     advocates the verdict waits;
//   - "about N more needed" is the classical sample size for a two-sided
//     test at 5% with 80% power, at the observed rates (or, when the arms
//     are equal so far, at a 20% relative lift: the smallest change a
//     merchant would act on).
package experiment

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
)

// Arm is one side of a test.
type Arm string

const (
	ArmA Arm = "A" // the standing offer
	ArmB Arm = "B" // the challenger
)

// Assign puts an advocate in an arm for good. The arm is a function of the
// test's key and the advocate's id alone, so every process, every restart
// and every retry computes the same one without coordination; shareB is the
// fraction of advocates in B (0.5 for an even split).
func Assign(testKey string, advocateID int64, shareB float64) Arm {
	h := sha256.Sum256([]byte(testKey + ":" + strconv.FormatInt(advocateID, 10)))
	// The first 53 bits as a fraction in [0, 1): uniform, and exact in a float64.
	u := float64(binary.BigEndian.Uint64(h[:8])>>11) / (1 << 53)
	if u < shareB {
		return ArmB
	}
	return ArmA
}

// Counts are one arm's figures. Orders are friends' orders attributed to the
// arm's advocates; ClickOrders those of them that followed a click, so
// ClickOrders ≤ Clicks can be asserted and conversion stays a proportion.
type Counts struct {
	Advocates   int64
	Clicks      int64
	Orders      int64
	ClickOrders int64
	// Money in the shop currency's minor units.
	RevenueMinor    int64
	RewardCostMinor int64
	// NetSquaresMinor is Σ over the arm's advocates of (net revenue)², for
	// the variance of net revenue per advocate.
	NetSquaresMinor float64
}

// Conversion is orders that followed a click over clicks (0 without clicks).
func (c Counts) Conversion() float64 {
	if c.Clicks == 0 {
		return 0
	}
	return float64(c.ClickOrders) / float64(c.Clicks)
}

// ConversionInterval is the Wilson 95% interval of the arm's conversion
// (0, 0 without clicks).
func (c Counts) ConversionInterval() (lo, hi float64) {
	if c.Clicks == 0 {
		return 0, 0
	}
	return wilson(c.ClickOrders, c.Clicks)
}

// NetPerAdvocate is (referred revenue − reward cost) per advocate, in minor units.
func (c Counts) NetPerAdvocate() float64 {
	if c.Advocates == 0 {
		return 0
	}
	return float64(c.RevenueMinor-c.RewardCostMinor) / float64(c.Advocates)
}

// Validate refuses figures that cannot come from real counting.
func (c Counts) Validate() error {
	switch {
	case c.Advocates < 0 || c.Clicks < 0 || c.Orders < 0 || c.ClickOrders < 0 || c.RewardCostMinor < 0:
		return fmt.Errorf("negative count")
	case c.ClickOrders > c.Orders:
		return fmt.Errorf("%d orders after a click but %d orders", c.ClickOrders, c.Orders)
	case c.ClickOrders > c.Clicks:
		return fmt.Errorf("%d orders after a click but %d clicks", c.ClickOrders, c.Clicks)
	}
	return nil
}

// Goals a test can be judged on.
const (
	GoalConversion     = "conversion"
	GoalNetPerAdvocate = "net_per_advocate"
)

// MinSample is the number of advocates per arm below which an amount's
// normal approximation is not trusted.
const MinSample = 30

// z for a two-sided 95% interval and for 80% power.
const (
	z95    = 1.959963984540054
	zPower = 0.8416212335729143
)

// Interval is an estimate of B − A with its 95% confidence bounds.
type Interval struct {
	Diff, Low, High float64
}

// Result is what a test says so far.
type Result struct {
	Goal  string
	A, B  Counts
	Delta Interval
	// Winner is ArmA or ArmB when the interval excludes zero, else "".
	Winner Arm
	// MoreNeeded is, when there is no winner, about how many more of the
	// goal's unit (orders for conversion, advocates for net revenue) the
	// test needs; 0 when it cannot be estimated.
	MoreNeeded int64
}

// Judge compares the arms on goal.
func Judge(goal string, a, b Counts) (Result, error) {
	if err := a.Validate(); err != nil {
		return Result{}, fmt.Errorf("arm A: %w", err)
	}
	if err := b.Validate(); err != nil {
		return Result{}, fmt.Errorf("arm B: %w", err)
	}
	r := Result{Goal: goal, A: a, B: b}
	switch goal {
	case GoalConversion:
		if a.Clicks == 0 || b.Clicks == 0 {
			r.MoreNeeded = 0
			return r, nil
		}
		r.Delta = newcombe(a.ClickOrders, a.Clicks, b.ClickOrders, b.Clicks)
		if r.Winner = winner(r.Delta); r.Winner == "" {
			r.MoreNeeded = moreOrders(a, b)
		}
	case GoalNetPerAdvocate:
		if a.Advocates < MinSample || b.Advocates < MinSample {
			r.MoreNeeded = 2*MinSample - min(a.Advocates, MinSample) - min(b.Advocates, MinSample)
			return r, nil
		}
		ma, va := meanVar(a)
		mb, vb := meanVar(b)
		se := math.Sqrt(va/float64(a.Advocates) + vb/float64(b.Advocates))
		d := mb - ma
		r.Delta = Interval{Diff: d, Low: d - z95*se, High: d + z95*se}
		if r.Winner = winner(r.Delta); r.Winner == "" {
			r.MoreNeeded = moreAdvocates(ma, mb, va, vb, a.Advocates+b.Advocates)
		}
	default:
		return Result{}, fmt.Errorf("unknown goal %q (want %s or %s)", goal, GoalConversion, GoalNetPerAdvocate)
	}
	return r, nil
}

func winner(iv Interval) Arm {
	switch {
	case iv.Low > 0:
		return ArmB
	case iv.High < 0:
		return ArmA
	}
	return ""
}

// wilson is the Wilson score interval of x successes in n trials.
func wilson(x, n int64) (lo, hi float64) {
	p, nf, z2 := float64(x)/float64(n), float64(n), z95*z95
	centre := (p + z2/(2*nf)) / (1 + z2/nf)
	half := z95 / (1 + z2/nf) * math.Sqrt(p*(1-p)/nf+z2/(4*nf*nf))
	return math.Max(0, centre-half), math.Min(1, centre+half)
}

// newcombe is the hybrid score interval for pB − pA.
func newcombe(xa, na, xb, nb int64) Interval {
	pa, pb := float64(xa)/float64(na), float64(xb)/float64(nb)
	la, ua := wilson(xa, na)
	lb, ub := wilson(xb, nb)
	d := pb - pa
	return Interval{
		Diff: d,
		Low:  d - math.Sqrt((pb-lb)*(pb-lb)+(ua-pa)*(ua-pa)),
		High: d + math.Sqrt((ub-pb)*(ub-pb)+(pa-la)*(pa-la)),
	}
}

// moreOrders estimates how many more orders (after clicks) both arms need
// together before a real difference of the observed size would show.
func moreOrders(a, b Counts) int64 {
	pa, pb := a.Conversion(), b.Conversion()
	if pa == pb || math.Abs(pb-pa) < 0.2*math.Max(pa, pb)/10 {
		// No visible difference yet: plan for a 20% relative lift.
		base := math.Max(pa, pb)
		if base == 0 {
			return 0
		}
		pa, pb = base, math.Min(1, base*1.2)
	}
	pbar := (pa + pb) / 2
	num := z95*math.Sqrt(2*pbar*(1-pbar)) + zPower*math.Sqrt(pa*(1-pa)+pb*(1-pb))
	clicksPerArm := num * num / ((pb - pa) * (pb - pa))
	ordersNeeded := int64(math.Ceil(2 * clicksPerArm * pbar))
	have := a.ClickOrders + b.ClickOrders
	if ordersNeeded <= have {
		// The plan says enough, the interval says not yet: the effect is
		// smaller than planned. A tenth more is the honest small step.
		return max(1, have/10)
	}
	return ordersNeeded - have
}

func meanVar(c Counts) (mean, variance float64) {
	n := float64(c.Advocates)
	mean = c.NetPerAdvocate()
	variance = (c.NetSquaresMinor - n*mean*mean) / (n - 1)
	return mean, math.Max(variance, 0)
}

func moreAdvocates(ma, mb, va, vb float64, have int64) int64 {
	d := mb - ma
	if d == 0 {
		d = 0.2 * math.Max(math.Abs(ma), math.Abs(mb))
	}
	if d == 0 {
		return 0
	}
	zz := (z95 + zPower) * (z95 + zPower)
	perArm := zz * (va + vb) / (d * d)
	need := int64(math.Ceil(2 * perArm))
	if need <= have {
		return max(1, have/10)
	}
	return need - have
}

// Verdict says the result in the merchant's words (English; the console
// translates by Result fields for other languages).
func (r Result) Verdict() string {
	what := "converts better"
	if r.Goal == GoalNetPerAdvocate {
		what = "earns more per advocate"
	}
	if r.Winner != "" {
		return fmt.Sprintf("%s %s, 95%% confident", r.Winner, what)
	}
	unit := "orders"
	if r.Goal == GoalNetPerAdvocate {
		unit = "advocates"
	}
	if r.MoreNeeded > 0 {
		return fmt.Sprintf("not enough data yet: ~%d more %s needed", r.MoreNeeded, unit)
	}
	return "not enough data yet"
}
