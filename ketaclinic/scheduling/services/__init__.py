"""The scheduling services, one module per subject: booking (and the day's status changes), messages
(instructions and reminders), resources (chairs, hours, closures), and what they share (common)."""

from ketaclinic.scheduling.services.booking import (
    SeriesSlot,
    appointment_for_token,
    book_appointment,
    book_series,
    cancel_appointment,
    check_in,
    confirm_instructions_by_link,
    confirm_instructions_by_phone,
    mark_attended,
    move_appointment,
    needs_confirmation,
    record_no_show,
)
from ketaclinic.scheduling.services.common import (
    BookingDefaults,
    VisitLength,
    booking_defaults,
    clinic_day,
    confirm_url,
    infusion_length,
    instruction_lines,
    resources_for,
    token_for,
)
from ketaclinic.scheduling.services.messages import deliver_message, enqueue_due_reminders
from ketaclinic.scheduling.services.resources import (
    add_chair,
    add_closure,
    add_staff_hours,
    remove_closure,
    remove_staff_hours,
    set_chair_active,
)

__all__ = [
    "BookingDefaults",
    "SeriesSlot",
    "VisitLength",
    "add_chair",
    "add_closure",
    "add_staff_hours",
    "appointment_for_token",
    "book_appointment",
    "book_series",
    "booking_defaults",
    "cancel_appointment",
    "check_in",
    "clinic_day",
    "confirm_instructions_by_link",
    "confirm_instructions_by_phone",
    "confirm_url",
    "deliver_message",
    "enqueue_due_reminders",
    "infusion_length",
    "instruction_lines",
    "mark_attended",
    "move_appointment",
    "needs_confirmation",
    "record_no_show",
    "remove_closure",
    "remove_staff_hours",
    "resources_for",
    "set_chair_active",
    "token_for",
]
