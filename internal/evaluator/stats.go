package evaluator

import "math"

// The statistics the drift tests need, written out so that their
// behaviour at the edges (zero counts, tiny samples) is ours to define.

// normalTwoSided is P(|Z| ≥ |z|) for a standard normal Z.
func normalTwoSided(z float64) float64 {
	return math.Erfc(math.Abs(z) / math.Sqrt2)
}

// chiSquareSF is P(X ≥ x) for X chi-square distributed with df degrees
// of freedom: the regularised upper incomplete gamma Q(df/2, x/2).
func chiSquareSF(x float64, df int) float64 {
	if df < 1 || math.IsNaN(x) {
		return math.NaN()
	}
	if x <= 0 {
		return 1
	}
	return gammaQ(float64(df)/2, x/2)
}

const (
	gammaEps     = 1e-15
	gammaTiny    = 1e-300
	gammaMaxIter = 1000
)

// gammaQ is the regularised upper incomplete gamma function Q(a, x) for
// a > 0, x > 0: by its series below a+1, by its continued fraction
// (modified Lentz) above, each where it converges fast.
func gammaQ(a, x float64) float64 {
	lg, _ := math.Lgamma(a)
	prefix := math.Exp(-x + a*math.Log(x) - lg)
	if x < a+1 {
		ap, del := a, 1/a
		sum := del
		for range gammaMaxIter {
			ap++
			del *= x / ap
			sum += del
			if math.Abs(del) < math.Abs(sum)*gammaEps {
				break
			}
		}
		return max(0, 1-sum*prefix)
	}
	b := x + 1 - a
	c := 1 / gammaTiny
	d := 1 / b
	h := d
	for i := 1; i <= gammaMaxIter; i++ {
		an := -float64(i) * (float64(i) - a)
		b += 2
		d = an*d + b
		if math.Abs(d) < gammaTiny {
			d = gammaTiny
		}
		c = b + an/c
		if math.Abs(c) < gammaTiny {
			c = gammaTiny
		}
		d = 1 / d
		del := d * c
		h *= del
		if math.Abs(del-1) < gammaEps {
			break
		}
	}
	return min(1, prefix*h)
}

// kolmogorovQ is the asymptotic tail P(K > λ) of the Kolmogorov
// distribution: 2 Σ (−1)^(k−1) exp(−2k²λ²).
func kolmogorovQ(lambda float64) float64 {
	if lambda < 0.2 {
		return 1 // the series has not converged here, and the tail is 1 to 1e-10
	}
	var sum, sign float64 = 0, 1
	for k := 1; k <= 100; k++ {
		term := sign * math.Exp(-2*float64(k*k)*lambda*lambda)
		sum += term
		if math.Abs(term) < 1e-16*math.Abs(sum) {
			break
		}
		sign = -sign
	}
	return max(0, min(1, 2*sum))
}

// ksPValue is the two-sample Kolmogorov–Smirnov p-value for distance d
// between samples of n1 and n2, with Stephens' small-sample correction.
func ksPValue(d float64, n1, n2 int64) float64 {
	ne := float64(n1) * float64(n2) / float64(n1+n2)
	sq := math.Sqrt(ne)
	return kolmogorovQ((sq + 0.12 + 0.11/sq) * d)
}

// jsDistance is the Jensen–Shannon distance (the square root of the
// divergence, base 2, so within [0, 1]) between two count vectors over
// the same categories.
func jsDistance(a, b []float64) float64 {
	var na, nb float64
	for i := range a {
		na += a[i]
		nb += b[i]
	}
	if na == 0 || nb == 0 {
		return 0
	}
	var div float64
	for i := range a {
		p, q := a[i]/na, b[i]/nb
		m := (p + q) / 2
		if p > 0 {
			div += p / 2 * math.Log2(p/m)
		}
		if q > 0 {
			div += q / 2 * math.Log2(q/m)
		}
	}
	return math.Sqrt(max(0, div))
}
