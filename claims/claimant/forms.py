"""Public forms. Every message says how to put the answer right.

Django's fields already refuse NUL characters and over-long text; the services
re-check every rule that matters, so a form is the first check, never the only one.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.core.exceptions import ValidationError
from django.core.validators import EmailValidator

from claims.domain.money import MoneyError, parse_money
from claims.domain.references import normalise_notice_code, normalise_reference
from claims.models import Claim, HeadOfLoss

NAME_MAX = 200
TEXT_MAX = 5000


NUL_MESSAGE = (
    "Remove the hidden character from this answer (it can come from copying and "
    "pasting), or type the answer again."
)


def _required(message: str) -> dict[str, str]:
    return {"required": message}


def _max_length(what: str, limit: int) -> dict[str, str]:
    return {"max_length": f"{what} must be {limit:,} characters or fewer."}


class RedressForm(forms.Form):
    """Marks fields with errors for the templates (aria-invalid, error styling)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        # Django's own wording ("Null characters are not allowed.", "Select a valid
        # choice. X is not one of...") says what is wrong, not what to do about it.
        for field in self.fields.values():
            for part in [field, *getattr(field, "fields", ())]:
                messages = part.error_messages
                messages["null_characters_not_allowed"] = NUL_MESSAGE
                messages.setdefault(
                    "max_length", "Shorten this answer to %(limit_value)d characters or fewer."
                )
                if isinstance(part, forms.ChoiceField):
                    required = messages.get("required")
                    custom = required != forms.Field.default_error_messages["required"]
                    messages["invalid_choice"] = (
                        required if custom else "Choose from the options shown."
                    )

    def full_clean(self) -> None:
        super().full_clean()
        for name in self.errors:
            if name in self.fields:
                widget = self.fields[name].widget
                widget.attrs["aria-invalid"] = "true"


# --- Widgets ---------------------------------------------------------------------


class DateWidget(forms.MultiWidget):
    template_name = "claims/widgets/date.html"

    def __init__(self, attrs: dict[str, Any] | None = None) -> None:
        part = {"inputmode": "numeric", "autocomplete": "off"}
        widgets = [  # day, month, year: rendered as <name>_0, _1, _2
            forms.TextInput(attrs={**part, "class": "input-2", "maxlength": "2"}),
            forms.TextInput(attrs={**part, "class": "input-2", "maxlength": "2"}),
            forms.TextInput(attrs={**part, "class": "input-4", "maxlength": "4"}),
        ]
        super().__init__(widgets, attrs)

    def decompress(self, value: dt.date | None) -> list[Any]:
        if value:
            return [value.day, value.month, value.year]
        return [None, None, None]


class DateField(forms.MultiValueField):
    widget = DateWidget

    def __init__(self, **kwargs: Any) -> None:
        # Not required one by one: compress() says which parts are missing.
        fields = tuple(forms.CharField(required=False) for _ in range(3))
        super().__init__(fields=fields, require_all_fields=False, **kwargs)

    def compress(self, data_list: list[str]) -> dt.date | None:
        if not data_list or not any(data_list):
            return None
        day, month, year = (part.strip() if part else "" for part in data_list)
        missing = [
            name
            for name, part in zip(("day", "month", "year"), (day, month, year), strict=True)
            if not part
        ]
        if missing:
            raise ValidationError(f"The date must include a {' and '.join(missing)}.")
        if not (day.isdecimal() and month.isdecimal() and year.isdecimal()):
            raise ValidationError("Enter the date as numbers, for example 14 3 2017.")
        if len(year) != 4:
            raise ValidationError("Enter the year as 4 numbers, for example 2017.")
        try:
            return dt.date(int(year), int(month), int(day))
        except (ValueError, OverflowError):  # OverflowError: a day of 20 digits
            raise ValidationError("Enter a real date, for example 14 3 2017.") from None


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    widget = MultipleFileInput

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("required", False)
        # An empty file is refused by claims.domain.uploads, with its name and what to do.
        kwargs.setdefault("allow_empty_file", True)
        super().__init__(*args, **kwargs)

    def clean(self, data: Any, initial: Any = None) -> list[Any]:
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(item, initial) for item in data if item]
        return [single(data, initial)] if data else []


# --- Finding the claimant ----------------------------------------------------------


class IdentifyForm(RedressForm):
    notice_code = forms.CharField(
        label="Notice code",
        help_text="12 letters and numbers, printed on the letter or email we sent you, "
        "for example 7K3M-9Q2P-4HXT.",
        max_length=40,
        error_messages=_required("Enter the notice code from your letter or email."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    postcode = forms.CharField(
        label="Postcode",
        help_text="The postcode the letter was sent to.",
        max_length=12,
        error_messages=_required("Enter your postcode."),
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "class": "input-10"}),
    )

    def clean_notice_code(self) -> str:
        code = normalise_notice_code(self.cleaned_data["notice_code"])
        if code is None:
            raise ValidationError("Enter the notice code as it is printed: 12 letters and numbers.")
        return code


class FollowForm(RedressForm):
    reference = forms.CharField(
        label="Claim reference",
        help_text="It starts RDR, for example RDR-7K3M-9Q2P.",
        max_length=40,
        error_messages=_required("Enter your claim reference."),
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    email = forms.EmailField(
        label="Email address",
        help_text="The email address you gave when you made your claim.",
        max_length=254,
        error_messages={
            **_required("Enter your email address."),
            "invalid": "Enter an email address in the right format, like name@example.com.",
        },
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )

    def clean_reference(self) -> str:
        reference = normalise_reference(self.cleaned_data["reference"])
        if reference is None:
            raise ValidationError(
                "Enter the reference as it is printed: RDR then 8 letters and numbers."
            )
        return reference


# --- The claim form's pages ---------------------------------------------------------

_EMAIL_MESSAGES = {
    **_required("Enter your email address."),
    "invalid": "Enter an email address in the right format, like name@example.com.",
}


class _EmailNoLocalhostField(forms.EmailField):
    # Instead of Django's validator, not beside it: both would fail, and say it twice.
    default_validators = [EmailValidator(allowlist=[])]


class ContactForm(RedressForm):
    full_name = forms.CharField(
        label="Full name",
        max_length=NAME_MAX,
        error_messages={**_required("Enter your full name."), **_max_length("Your name", NAME_MAX)},
        widget=forms.TextInput(attrs={"autocomplete": "name", "spellcheck": "false"}),
    )
    email = _EmailNoLocalhostField(
        label="Email address",
        help_text="We will send updates about your claim here. We never ask for a password.",
        max_length=254,
        error_messages=_EMAIL_MESSAGES,
        widget=forms.EmailInput(attrs={"autocomplete": "email", "spellcheck": "false"}),
    )
    phone = forms.CharField(
        label="Phone number (optional)",
        help_text="Only if you are happy for a caseworker to call you.",
        max_length=40,
        required=False,
        error_messages=_max_length("The phone number", 40),
        widget=forms.TextInput(attrs={"autocomplete": "tel", "type": "tel", "class": "input-20"}),
    )
    address = forms.CharField(
        label="Address",
        max_length=500,
        error_messages={**_required("Enter your address."), **_max_length("The address", 500)},
        widget=forms.Textarea(attrs={"rows": 4, "autocomplete": "street-address"}),
    )
    postcode = forms.CharField(
        label="Postcode",
        max_length=10,
        error_messages={**_required("Enter your postcode."), **_max_length("The postcode", 10)},
        widget=forms.TextInput(attrs={"autocomplete": "postal-code", "class": "input-10"}),
    )


YES_NO = [("yes", "Yes"), ("no", "No")]


class RepresentativeForm(RedressForm):
    on_behalf = forms.ChoiceField(
        label="Are you making this claim for someone else?",
        help_text="For example, for a relative who cannot manage it themselves.",
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages=_required("Select yes if you are claiming for someone else."),
    )
    representative_name = forms.CharField(
        label="Your name, as the person making the claim for them",
        max_length=NAME_MAX,
        required=False,
        error_messages=_max_length("Your name", NAME_MAX),
    )
    representative_reason = forms.CharField(
        label="Why are you claiming for them?",
        help_text="For example: I hold power of attorney for my father.",
        max_length=TEXT_MAX,
        required=False,
        error_messages=_max_length("The reason", TEXT_MAX),
        widget=forms.Textarea(attrs={"rows": 3}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("on_behalf") == "yes":
            if not (data.get("representative_name") or "").strip():
                self.add_error("representative_name", "Enter your name.")
            if not (data.get("representative_reason") or "").strip():
                self.add_error("representative_reason", "Tell us why you are claiming for them.")
        return data


class WhatHappenedForm(RedressForm):
    what_happened = forms.CharField(
        label="What happened to you after the breach?",
        help_text="In your own words: for example, payments you did not make, calls from "
        "scammers, cards you had to cancel. You can say more about each cost on the next page.",
        max_length=TEXT_MAX,
        error_messages={
            **_required("Tell us what happened to you."),
            **_max_length("What happened", TEXT_MAX),
        },
        widget=forms.Textarea(attrs={"rows": 8}),
    )


LOSS_CATEGORIES = [
    (c.value, c.label) for c in HeadOfLoss.Category if c != HeadOfLoss.Category.DISTRESS
]
LOSS_HINTS = {
    "unauthorised_transactions": "Payments taken from your account that you did not make.",
    "bank_charges": "Fees your bank charged because of the fraud, such as overdraft charges.",
    "card_replacement": "What it cost you to cancel or replace a card.",
    "credit_monitoring": "A credit monitoring service you paid for after the breach.",
    "time_spent": "Time you spent sorting things out: calls, letters, visits to the bank.",
    "other_costs": "Anything else the breach cost you, such as postage or travel.",
}
EVIDENCE_HELP = {
    "unauthorised_transactions": "A bank statement showing the payments helps.",
    "bank_charges": "A bank statement showing the charges helps.",
    "card_replacement": "A receipt helps.",
    "credit_monitoring": "A receipt or the subscription email helps.",
    "time_spent": "A short log of what you did and when raises the hours we can allow.",
    "other_costs": "A receipt helps.",
}


class LossCategoryForm(RedressForm):
    category = forms.ChoiceField(
        label="What are you claiming for?",
        choices=LOSS_CATEGORIES,
        widget=forms.RadioSelect,
        error_messages=_required("Select what you are claiming for."),
    )


class LossForm(RedressForm):
    incurred_on = DateField(
        label="When did this happen?",
        help_text="For example, 14 3 2017. If you are not sure, give your best guess.",
        required=True,
        error_messages=_required("Enter the date this happened."),
    )
    amount = forms.CharField(
        label="How much did it cost you?",
        help_text="In pounds and pence, for example 49.99.",
        max_length=20,
        error_messages=_required("Enter how much it cost you."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "input-10 money"}),
    )
    description = forms.CharField(
        label="Tell us about it (optional)",
        max_length=TEXT_MAX,
        required=False,
        error_messages=_max_length("The description", TEXT_MAX),
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def clean_amount(self) -> str:
        # Checked here as well as in the service, so every problem shows at once.
        try:
            parse_money(self.cleaned_data["amount"], allow_zero=False)
        except MoneyError as error:
            raise ValidationError(str(error)) from None
        return str(self.cleaned_data["amount"])

    # The POST name is `files`; Django moves declared fields off the class, so this does
    # not replace BaseForm.files at run time.
    files = MultipleFileField(  # type: ignore[assignment]
        label="Upload evidence (optional)",
        help_text="PDF, JPEG or PNG, up to 10 MB each.",
        widget=MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/*"}),
    )


class HoursForm(RedressForm):
    hours = forms.CharField(
        label="How many hours did you spend?",
        max_length=10,
        error_messages=_required("Enter the hours you spent, like 2.5."),
        widget=forms.TextInput(attrs={"inputmode": "decimal", "class": "input-5"}),
    )
    description = forms.CharField(
        label="What did you spend the time on?",
        help_text="For example: phoning my bank, changing passwords, visiting the branch.",
        max_length=TEXT_MAX,
        error_messages={
            **_required("Tell us what you spent the time on."),
            **_max_length("The description", TEXT_MAX),
        },
        widget=forms.Textarea(attrs={"rows": 4}),
    )

    def clean_hours(self) -> str:
        from claims.core import ClaimError, parse_hours

        try:
            parse_hours(self.cleaned_data["hours"])
        except ClaimError as error:
            raise ValidationError(error.message) from None
        return str(self.cleaned_data["hours"])

    # The POST name is `files`; Django moves declared fields off the class, so this does
    # not replace BaseForm.files at run time.
    files = MultipleFileField(  # type: ignore[assignment]
        label="Upload a log of your time (optional)",
        help_text="PDF, JPEG or PNG, up to 10 MB each.",
        widget=MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/*"}),
    )


DISTRESS_EFFECTS = [
    ("worry", "I worried that my money or identity would be stolen"),
    ("scam_contact", "Scammers contacted me"),
    ("sleep", "I lost sleep"),
    ("health", "It affected my health"),
    ("work", "It affected my work or studies"),
    ("relationships", "It affected my family or relationships"),
    ("embarrassment", "I felt embarrassed or ashamed"),
]


class DistressForm(RedressForm):
    affected = forms.ChoiceField(
        label="Did the breach cause you distress or worry?",
        choices=YES_NO,
        widget=forms.RadioSelect,
        error_messages=_required("Select yes if the breach caused you distress or worry."),
    )
    effects = forms.MultipleChoiceField(
        label="How did it affect you? Select all that apply.",
        choices=DISTRESS_EFFECTS,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    account = forms.CharField(
        label="In your own words, how did it affect you?",
        help_text="A GP's letter can help if it affected your health, but you do not need one.",
        max_length=TEXT_MAX,
        required=False,
        error_messages=_max_length("Your account", TEXT_MAX),
        widget=forms.Textarea(attrs={"rows": 6}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("affected") == "yes"
            and not data.get("effects")
            and not (data.get("account") or "").strip()
        ):
            self.add_error(
                "account", "Tell us how the breach affected you, or select at least one effect."
            )
        return data


class SupportForm(RedressForm):
    support_needs = forms.CharField(
        label="Do you need any support from us? (optional)",
        help_text="For example: I find phone calls hard; please write to me.",
        max_length=TEXT_MAX,
        required=False,
        error_messages=_max_length("Your answer", TEXT_MAX),
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    preferred_format = forms.ChoiceField(
        label="How would you like us to write to you?",
        choices=Claim.Format.choices,
        initial=Claim.Format.STANDARD,
        widget=forms.RadioSelect,
        error_messages=_required("Select how you would like us to write to you."),
    )
    preferred_language = forms.CharField(
        label="Which language? (if you chose another language)",
        max_length=60,
        required=False,
        error_messages=_max_length("The language", 60),
        widget=forms.TextInput(attrs={"class": "input-20"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if (
            data.get("preferred_format") == Claim.Format.OTHER_LANGUAGE
            and not (data.get("preferred_language") or "").strip()
        ):
            self.add_error("preferred_language", "Enter the language you would like us to use.")
        return data


class SubmitForm(RedressForm):
    statement_of_truth = forms.BooleanField(
        label="I confirm that the information I have given is true to the best of my knowledge.",
        error_messages=_required("Confirm that the information you have given is true."),
    )


# --- After submitting --------------------------------------------------------------


class RespondForm(RedressForm):
    response = forms.CharField(
        label="Your answer",
        max_length=TEXT_MAX,
        error_messages={
            **_required("Write your answer to our question."),
            **_max_length("Your answer", TEXT_MAX),
        },
        widget=forms.Textarea(attrs={"rows": 6}),
    )
    # The POST name is `files`; Django moves declared fields off the class, so this does
    # not replace BaseForm.files at run time.
    files = MultipleFileField(  # type: ignore[assignment]
        label="Upload files (optional)",
        help_text="PDF, JPEG or PNG, up to 10 MB each.",
        widget=MultipleFileInput(attrs={"accept": ".pdf,.jpg,.jpeg,.png,application/pdf,image/*"}),
    )


class AcceptForm(RedressForm):
    confirm = forms.BooleanField(
        label="I accept this offer in full and final settlement of my claim.",
        error_messages=_required("Confirm that you accept the offer in full and final settlement."),
    )


class DeclineForm(RedressForm):
    reason = forms.CharField(
        label="Why are you declining the offer?",
        help_text="Tell us which parts you disagree with and why. A senior caseworker who "
        "did not assess your claim will review it.",
        max_length=TEXT_MAX,
        error_messages={
            **_required("Tell us why you are declining the offer."),
            **_max_length("Your reason", TEXT_MAX),
        },
        widget=forms.Textarea(attrs={"rows": 6}),
    )


class BankDetailsForm(RedressForm):
    account_name = forms.CharField(
        label="Name on the account",
        max_length=140,
        error_messages={
            **_required("Enter the name on the account."),
            **_max_length("The name", 140),
        },
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    sort_code = forms.CharField(
        label="Sort code",
        help_text="6 digits, for example 30-94-57.",
        max_length=10,
        error_messages=_required("Enter the sort code."),
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "class": "input-5"}
        ),
    )
    account_number = forms.CharField(
        label="Account number",
        help_text="8 digits.",
        max_length=12,
        error_messages=_required("Enter the account number."),
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "off", "class": "input-10"}
        ),
    )


class WithdrawForm(RedressForm):
    reason = forms.CharField(
        label="Why are you withdrawing your claim? (optional)",
        max_length=TEXT_MAX,
        required=False,
        error_messages=_max_length("Your reason", TEXT_MAX),
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class RejectionReviewForm(RedressForm):
    reason = forms.CharField(
        label="Why do you think our decision is wrong?",
        help_text="Tell us anything that shows you were affected, such as when you ordered "
        "from the shop. A senior caseworker who was not involved in the decision will read it.",
        max_length=TEXT_MAX,
        error_messages={
            **_required("Tell us why you think our decision is wrong."),
            **_max_length("Your reason", TEXT_MAX),
        },
        widget=forms.Textarea(attrs={"rows": 6}),
    )


class RevisedOfferDeclineForm(RedressForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(
        label="Why are you declining the revised offer?",
        help_text="A senior caseworker who had no part in this offer will review it. The part "
        "you accepted first is not affected.",
        max_length=5000,
        error_messages={
            **_required("Tell us why you are declining the revised offer."),
            **_max_length("Your reason", 5000),
        },
        widget=forms.Textarea(attrs={"rows": 6}),
    )


class OfferAnswerForm(RedressForm):
    """Accept or dispute each item of an offer; a disputed item needs a reason. One
    pair of fields per item: `item_<id>` (accept or dispute) and `reason_<id>`."""

    ACCEPT, DISPUTE = "accept", "dispute"

    version = forms.IntegerField(widget=forms.HiddenInput)
    confirm = forms.BooleanField(
        required=False,
        label="I accept the items I have chosen to accept in full and final settlement of them.",
    )

    def __init__(self, *args: Any, items: list[Any], **kwargs: Any) -> None:
        self.items = items
        super().__init__(*args, **kwargs)
        from claims.domain.money import format_money

        for item in items:
            label = item.get_category_display()
            choose = f"Choose whether you accept or dispute the amount for {label.lower()}."
            self.fields[f"item_{item.pk}"] = forms.ChoiceField(
                label=f"{label}: we offer {format_money(item.amount_offered)}",
                choices=[
                    (self.ACCEPT, f"Accept {format_money(item.amount_offered)} for this"),
                    (self.DISPUTE, "Dispute this amount"),
                ],
                widget=forms.RadioSelect,
                error_messages={"required": choose, "invalid_choice": choose},
            )
            self.fields[f"reason_{item.pk}"] = forms.CharField(
                label=f"If you dispute the amount for {label.lower()}, tell us why",
                required=False,
                max_length=TEXT_MAX,
                error_messages={
                    **_max_length("Your reason", TEXT_MAX),
                    "null_characters_not_allowed": NUL_MESSAGE,
                },
                widget=forms.Textarea(attrs={"rows": 3}),
            )
        # The confirmation reads after the items.
        self.order_fields([name for name in self.fields if name != "confirm"] + ["confirm"])

    def item_rows(self) -> list[tuple[Any, Any, Any]]:
        return [(item, self[f"item_{item.pk}"], self[f"reason_{item.pk}"]) for item in self.items]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        accepting = False
        for item in self.items:
            choice = data.get(f"item_{item.pk}")
            reason = (data.get(f"reason_{item.pk}") or "").strip()
            if choice == self.DISPUTE and not reason and f"reason_{item.pk}" not in self.errors:
                self.add_error(
                    f"reason_{item.pk}",
                    f"Tell us why you dispute the amount for "
                    f"{item.get_category_display().lower()}.",
                )
            accepting = accepting or choice == self.ACCEPT
        if accepting and not data.get("confirm"):
            self.add_error(
                "confirm",
                "Confirm that you accept the items you chose in full and final settlement.",
            )
        return data


class RevisedOfferForm(RedressForm):
    version = forms.IntegerField(widget=forms.HiddenInput)
    confirm = forms.BooleanField(
        label="I accept this revised offer in full and final settlement of the items I disputed.",
        error_messages=_required(
            "Confirm that you accept the revised offer in full and final settlement."
        ),
    )
