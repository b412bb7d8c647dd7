"""The append-only audit log: who did what to which patient's record, when, from where."""

from enum import StrEnum

from django.conf import settings
from django.db import models

from ketaclinic.accounts.roles import ROLE_LABELS, Role


class ObjectType(StrEnum):
    """What an audit entry is about: one name per kind of record, so a misspelt type fails type-checking
    instead of splitting the log."""

    ADMINISTRATION = "administration"
    ALERT_ACKNOWLEDGEMENT = "alert_acknowledgement"
    ALERT_EMAIL = "alert_email"
    ALLERGIES = "allergies"
    ALLERGY = "allergy"
    ANTIDEPRESSANT_TRIAL = "antidepressant_trial"
    APPOINTMENT = "appointment"
    APPOINTMENT_MESSAGE = "appointment_message"
    ASSESSMENT = "assessment"
    AUDIT_LOG = "audit_log"
    BILLING_ACCOUNT = "billing_account"
    BILLING_REVENUE_REPORT = "billing_revenue_report"
    BILLING_SETTINGS = "billing_settings"
    BILLING_WORK = "billing_work"
    CALENDAR = "calendar"
    CARE_TEAM_MEMBER = "care_team_member"
    CHAIR = "chair"
    CHART_TIMELINE = "chart_timeline"
    CLINIC = "clinic"
    CLINIC_OUTCOMES = "clinic_outcomes"
    CLOSURE = "closure"
    CONSENT = "consent"
    CONTROLLED_DRUG_ADMINISTRATION = "controlled_drug_administration"
    CONTROLLED_DRUG_DRAW = "controlled_drug_draw"
    CONTROLLED_DRUG_ENTRY = "controlled_drug_entry"
    CONTROLLED_DRUG_WASTE = "controlled_drug_waste"
    CONTROLLED_SUBSTANCE_LOG = "controlled_substance_log"
    DAY_SCHEDULE = "day_schedule"
    DEA_FORM_106 = "dea_form_106"
    DEPOSIT = "deposit"
    DEPOSIT_SETTLEMENT = "deposit_settlement"
    DIAGNOSIS = "diagnosis"
    DISCREPANCY = "discrepancy"
    DISCREPANCY_RESOLUTION = "discrepancy_resolution"
    DOSE_CALCULATION = "dose_calculation"
    DOSE_ORDER = "dose_order"
    DOSE_ORDERS = "dose_orders"
    DOSE_ORDER_COSIGNATURE = "dose_order_cosignature"
    DOSE_ORDER_FORM = "dose_order_form"
    DOSE_TITRATION = "dose_titration"
    DRUG_PRODUCT = "drug_product"
    DUE_SCALES = "due_scales"
    ELIGIBILITY_DECISION = "eligibility_decision"
    ENCOUNTER = "encounter"
    ESTIMATES_DUE = "estimates_due"
    ESTIMATE_ACKNOWLEDGEMENT = "estimate_acknowledgement"
    FHIR_APPOINTMENT = "fhir_Appointment"
    FHIR_AUDIT_EVENT = "fhir_AuditEvent"
    FHIR_CARE_PLAN = "fhir_CarePlan"
    FHIR_CONDITION = "fhir_Condition"
    FHIR_CONSENT = "fhir_Consent"
    FHIR_ENCOUNTER = "fhir_Encounter"
    FHIR_EVERYTHING = "fhir_everything"
    FHIR_MEDICATION_ADMINISTRATION = "fhir_MedicationAdministration"
    FHIR_MEDICATION_STATEMENT = "fhir_MedicationStatement"
    FHIR_OBSERVATION = "fhir_Observation"
    FHIR_PATIENT = "fhir_Patient"
    FHIR_PRACTITIONER = "fhir_Practitioner"
    FHIR_PROVENANCE = "fhir_Provenance"
    FHIR_QUESTIONNAIRE_RESPONSE = "fhir_QuestionnaireResponse"
    FHIR_RELATED_PERSON = "fhir_RelatedPerson"
    GOOD_FAITH_ESTIMATE = "good_faith_estimate"
    GUARDIAN = "guardian"
    HARD_STOP_OVERRIDE = "hard_stop_override"
    HEALTH_HISTORY = "health_history"
    HL7_DEVICE_CHAIR = "hl7_device_chair"
    HL7_MESSAGE = "hl7_message"
    HL7_PROCESSING = "hl7_processing"
    HL7_REVIEW_QUEUE = "hl7_review_queue"
    HL7_DOWNSTREAM = "hl7_downstream"
    HL7_OUTBOUND = "hl7_outbound"
    INDUCTION_FUNNEL = "induction_funnel"
    INFUSION_ADVERSE_EVENTS = "infusion_adverse_events"
    INFUSION_ALERT_ACKNOWLEDGEMENT = "infusion_alert_acknowledgement"
    INFUSION_ARTEFACT_MARK = "infusion_artefact_mark"
    INFUSION_BOARD = "infusion_board"
    INFUSION_CHECKLIST_OVERRIDE = "infusion_checklist_override"
    INFUSION_CHECK_IN = "infusion_check_in"
    INFUSION_DISCHARGE = "infusion_discharge"
    INFUSION_DISCHARGE_INSTRUCTIONS = "infusion_discharge_instructions"
    INFUSION_DISCHARGE_OVERRIDE_DECISION = "infusion_discharge_override_decision"
    INFUSION_DISCHARGE_OVERRIDE_REQUEST = "infusion_discharge_override_request"
    INFUSION_DRUG_GIVEN = "infusion_drug_given"
    INFUSION_ENTERED_IN_ERROR = "infusion_entered_in_error"
    INFUSION_GIVEN = "infusion_given"
    INFUSION_GIVEN_WITHDRAWN = "infusion_given_withdrawn"
    INFUSION_KETAMINE_WASTE = "infusion_ketamine_waste"
    INFUSION_PUMP_EVENT = "infusion_pump_event"
    INFUSION_RECOVERY_SCORE = "infusion_recovery_score"
    INFUSION_SERIOUS_EVENT_REVIEW = "infusion_serious_event_review"
    INFUSION_SIDE_EFFECT = "infusion_side_effect"
    INFUSION_VISIT = "infusion_visit"
    INFUSION_VISITS = "infusion_visits"
    INFUSION_VISIT_SIGNATURE = "infusion_visit_signature"
    INFUSION_VITAL_SIGNS = "infusion_vital_signs"
    INQUIRY = "inquiry"
    INQUIRY_NOTE = "inquiry_note"
    INSTRUCTION_CONFIRMATION = "instruction_confirmation"
    INSTRUMENT_DEFINITION = "instrument_definition"
    INTAKE_INVITATION = "intake_invitation"
    INTAKE_SUBMISSION = "intake_submission"
    INVENTORY_REPORT = "inventory_report"
    INVOICE = "invoice"
    KETAMINE_AWAITING_WASTE = "ketamine_awaiting_waste"
    LETTER = "letter"
    LETTERS = "letters"
    LETTER_DISPATCH = "letter_dispatch"
    MEASURES = "measures"
    MEASURE_ALERT = "measure_alert"
    MEASURE_ALERTS = "measure_alerts"
    MEASURE_REQUEST = "measure_request"
    MEASURE_REQUEST_EMAIL = "measure_request_email"
    MEDICATION = "medication"
    NO_SHOW_FEE_DECISION = "no_show_fee_decision"
    NOTE = "note"
    NOTES = "notes"
    NOTES_TO_COSIGN = "notes_to_cosign"
    NOTE_ADDENDUM = "note_addendum"
    NOTE_COSIGNATURE = "note_cosignature"
    NOTE_RELEASE = "note_release"
    NOTE_SEARCH = "note_search"
    NOTE_TEMPLATE = "note_template"
    OTHER_TREATMENT = "other_treatment"
    OUTCOMES_BY_DIAGNOSIS = "outcomes_by_diagnosis"
    OUTSIDE_DOCUMENT = "outside_document"
    OUTSIDE_DOCUMENTS = "outside_documents"
    OWN_ACCESS_LOG = "own_access_log"
    OWN_CONSENTS = "own_consents"
    OWN_MESSAGES = "own_messages"
    OWN_OUTCOMES = "own_outcomes"
    OWN_RECORD = "own_record"
    OWN_SCALES = "own_scales"
    OWN_VISITS = "own_visits"
    PACKAGE_CANCELLATION = "package_cancellation"
    PATIENT = "patient"
    PATIENT_HISTORY = "patient_history"
    PATIENT_SCHEDULE = "patient_schedule"
    PAYMENT = "payment"
    PLAN_DRAFT = "plan_draft"
    PLAN_END = "plan_end"
    PLAN_OVERRIDE = "plan_override"
    PLAN_SERIES_EVENT = "plan_series_event"
    PLAN_VERSION = "plan_version"
    PORTAL_INBOX = "portal_inbox"
    PORTAL_INVITATION = "portal_invitation"
    PORTAL_INVITE = "portal_invite"
    PORTAL_MESSAGE = "portal_message"
    PORTAL_VISIT_REQUESTS = "portal_visit_requests"
    PRICE_ITEM = "price_item"
    PROTOCOL_PARAMETER = "protocol_parameter"
    PUBLIC_PAGE = "public_page"
    RECEIPT = "receipt"
    RECEIVABLES = "receivables"
    REFUND = "refund"
    RELEASE_AUTHORISATION = "release_authorisation"
    STAFF_ACCOUNT = "staff_account"
    STAFF_HOURS = "staff_hours"
    STOCK_COUNT = "stock_count"
    STORAGE_LOCATION = "storage_location"
    SUPERBILL = "superbill"
    TODAY_VISITS = "today_visits"
    TREATMENT_PLAN = "treatment_plan"
    UNCONFIRMED_VISITS = "unconfirmed_visits"
    VIAL_REMOVAL = "vial_removal"
    VIAL_TRANSFER = "vial_transfer"
    VISIT_REQUEST = "visit_request"
    VITAL_SIGNS = "vital_signs"
    WEEK_SCHEDULE = "week_schedule"
    WITNESS_SIGNATURE = "witness_signature"


class Action(models.TextChoices):
    VIEW = "view", "Viewed"
    LIST = "list", "Listed"
    SEARCH = "search", "Searched"
    CREATE = "create", "Created"
    UPDATE = "update", "Updated"
    EXPORT = "export", "Exported"
    SIGN_IN = "sign_in", "Signed in"
    SIGN_IN_FAILED = "sign_in_failed", "Sign-in failed"
    SIGN_OUT = "sign_out", "Signed out"
    SECOND_FACTOR = "second_factor", "Second factor"


class AuditEvent(models.Model):
    """One entry. The database refuses UPDATE and DELETE on this table (migration 0002)."""

    occurred_at = models.DateTimeField(db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_username = models.CharField(max_length=150, blank=True)
    actor_role = models.CharField(max_length=20, blank=True)
    clinic = models.ForeignKey(
        "core.Clinic", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    # A plain id, not a foreign key: the audit layer sits below patients, and an entry outlives any row.
    patient_id = models.BigIntegerField(null=True, blank=True)
    patient_record_number = models.CharField(max_length=30, blank=True)
    action = models.CharField(max_length=20, choices=Action.choices)
    object_type = models.CharField(max_length=60)
    object_id = models.CharField(max_length=60, blank=True)
    summary = models.CharField(max_length=300, blank=True)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    channel = models.CharField(max_length=10)
    user_agent = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["-occurred_at", "-id"]
        indexes = [
            models.Index(fields=["patient_id", "-occurred_at"], name="audit_patient_time"),
            models.Index(fields=["actor", "-occurred_at"], name="audit_actor_time"),
        ]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.actor_username} {self.action} {self.object_type}"

    @property
    def actor_role_label(self) -> str:
        """The role as people read it ('Front desk'), or the stored value for a role no longer known."""
        if self.actor_role in Role._value2member_map_:
            return ROLE_LABELS[Role(self.actor_role)]
        return self.actor_role

    @property
    def object_label(self) -> str:
        return self.object_type.replace("_", " ")


class AuditSeal(models.Model):
    """One link of the audit log's keyed hash chain: `entry_hash` is HMAC-SHA256 (ketaclinic/core/chains.py)
    over `previous_hash` and the sealed entry's fields (audit.rules.SEALED_FIELDS). Entries are sealed in
    batches shortly after they are written (`seal_audit_log`), not while a request waits, so writing an
    entry takes no lock and costs what it did. Append-only, like the entries."""

    event = models.OneToOneField(AuditEvent, on_delete=models.PROTECT, related_name="seal")
    sequence = models.PositiveBigIntegerField(unique=True)
    previous_hash = models.CharField(max_length=64)
    entry_hash = models.CharField(max_length=64)

    class Meta:
        ordering = ["sequence"]

    def __str__(self) -> str:
        return f"seal {self.sequence} of entry {self.event_id}"
