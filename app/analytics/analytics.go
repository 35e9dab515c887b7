// Package analytics is what the merchant's dashboard shows for a date
// range: clicks, referred orders and revenue, conversion, reward cost, ROI,
// channels, top advocates, and referred vs other customers over 30, 90 and
// 365 days. Each figure's definition is here and on the page
// (docs/architecture.md, "The dashboard's figures").
package analytics

import "time"

// Range is [From, To): midnights in the shop's time zone; the days of the
// range are the shop's calendar days.
type Range struct{ From, To time.Time }

// Count is a named count.
type Count struct {
	Name  string
	Count int64
}

// Advocate is one of the top advocates.
type Advocate struct {
	Code         string
	Orders       int64
	RevenueMinor int64
}

// Day is one point of the chart.
type Day struct {
	Day          time.Time
	Orders       int64
	RevenueMinor int64
}

// Stats are the dashboard's figures. Amounts are in the shop currency's
// minor units. A referred order is an order with a referral neither
// rejected nor reversed, counted on the day the referral was made.
type Stats struct {
	// Clicks on advocates' links in the range.
	Clicks int64
	// ClicksConverted: of those clicks, the ones followed by a referred
	// order (the order's referral names the click: the same visitor,
	// through the link's ref or from the same IP, before the order). Each
	// click counts once, however many orders followed it.
	ClicksConverted int64
	// ReferredOrders = AfterClickOrders + CodeOnlyOrders.
	ReferredOrders int64
	// AfterClickOrders followed a recorded click; CodeOnlyOrders came by
	// the friend code alone (shared by hand, or no click recorded).
	AfterClickOrders int64
	CodeOnlyOrders   int64
	// RevenueMinor: referred orders' totals less refunds.
	RevenueMinor int64
	// ReferredAOVMinor: referred orders' average total (before refunds).
	ReferredAOVMinor int64
	// RewardCostMinor: fixed rewards created in the range, issuing or
	// issued (a percent reward's cost is only known when used).
	RewardCostMinor int64
	Channels        []Count
	TopAdvocates    []Advocate
	Days            []Day
	// Customers compares customers who came through a referral with the
	// others, per horizon (30, 90, 365 days).
	Customers []Horizon
}

// Conversion is the share of the range's clicks followed by a referred
// order: at most 1, since each click counts once.
func (s Stats) Conversion() float64 { return ratio(s.ClicksConverted, s.Clicks) }

// ROI is referred revenue per unit of reward cost.
func (s Stats) ROI() float64 { return ratio(s.RevenueMinor, s.RewardCostMinor) }

// Horizons are the customer comparison's windows, in days.
var Horizons = []int{30, 90, 365}

// Horizon compares referred and other customers over the Days after each
// one's first order. The cohort is the customers whose first order
// (known, paid, not cancelled, not a test) fell in the range and at least
// Days ago (CohortTo is the last first-order day that qualifies), so every
// customer counted had the whole window to come back.
type Horizon struct {
	Days     int
	CohortTo time.Time
	// Mature: the range starts on or before Latest (today minus Days), so
	// some of its first orders are old enough.
	Mature   bool
	Latest   time.Time
	Referred Cohort
	Others   Cohort
}

// Cohort is a group of customers and what they bought within a horizon.
// A customer is referred when their first order has a referral that was
// not rejected (a later refund or reversal does not change how they came).
type Cohort struct {
	Customers int64
	// Orders and RevenueMinor (totals less refunds) within the horizon,
	// the first order included.
	Orders       int64
	RevenueMinor int64
	// Repeaters ordered at least twice within the horizon.
	Repeaters int64
}

// AOVMinor is the average order value within the horizon.
func (c Cohort) AOVMinor() int64 { return div(c.RevenueMinor, c.Orders) }

// RepeatRate is the share of customers who ordered again within the
// horizon.
func (c Cohort) RepeatRate() float64 { return ratio(c.Repeaters, c.Customers) }

// RevenuePerCustomerMinor is the revenue per customer within the horizon.
func (c Cohort) RevenuePerCustomerMinor() int64 { return div(c.RevenueMinor, c.Customers) }

func ratio(a, b int64) float64 {
	if b == 0 {
		return 0
	}
	return float64(a) / float64(b)
}

// div rounds to the nearest minor unit (half away from zero).
func div(a, b int64) int64 {
	if b == 0 {
		return 0
	}
	q, r := a/b, a%b
	if 2*abs(r) >= abs(b) {
		if (a < 0) != (b < 0) {
			q--
		} else {
			q++
		}
	}
	return q
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
