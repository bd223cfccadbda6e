import { chaosPoint } from '@middy-chaos/point'

/** An order as the client places it. */
export interface Order {
  readonly orderId: string
  /** Amount in cents. */
  readonly amount: number
}

/** What the payment provider answers for a charge. */
export interface Charge {
  readonly chargeId: string
}

/** The part of a payment provider the function uses. */
export interface Payments {
  charge(order: Order): Promise<Charge>
}

/**
 * A card payment provider reached over HTTP (`POST /charges`), as Stripe's or
 * Adyen's API is. Each call is a new charge: the provider does not know that
 * a retried order was charged already. The failure point `payments.charge`
 * sits just before the request leaves, labelled with the provider.
 */
export const httpPayments = (baseUrl: string, provider = 'stripe'): Payments => ({
  async charge(order) {
    await chaosPoint('payments.charge', { labels: { provider } })
    const response = await fetch(new URL('/charges', baseUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ reference: order.orderId, amount: order.amount }),
      signal: AbortSignal.timeout(2000),
    })
    if (!response.ok) throw new Error(`payment provider answered ${response.status}`)
    const { id } = (await response.json()) as { id: string }
    return { chargeId: id }
  },
})
