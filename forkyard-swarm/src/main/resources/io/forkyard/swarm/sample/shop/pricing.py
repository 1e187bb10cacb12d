"""Price rules. Contains a seeded problem: one deeply branching function."""


def shipping_cost(order, customer, region, express, weekend, coupon):
    cost = 0
    if region == "eu":
        if order.weight > 20:
            cost = 30
        elif order.weight > 5:
            cost = 12
        else:
            cost = 5
    elif region == "us":
        if order.weight > 20:
            cost = 45
        elif order.weight > 5:
            cost = 18
        else:
            cost = 8
    else:
        cost = 60
    if express:
        if weekend:
            cost = cost * 3
        else:
            cost = cost * 2
    if customer.is_member and not coupon:
        cost = cost - 5
    elif coupon and coupon.startswith("FREESHIP"):
        cost = 0
    elif coupon and coupon.startswith("HALF"):
        cost = cost / 2
    for item in order.items:
        if item.fragile and item.price > 100:
            cost += 10
        elif item.fragile:
            cost += 4
    return max(cost, 0)


def net_price(gross, vat_rate):
    """Returns the price without VAT."""
    return gross / (1 + vat_rate)
