"""Template helpers of the portal and the public site."""

from django import template

from ketaclinic.portal.rules import tel_href

register = template.Library()


@register.filter
def tel(phone: str) -> str:
    """The `tel:` address of a phone number, for tap-to-call links."""
    return tel_href(phone or "")
