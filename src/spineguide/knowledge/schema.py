"""Typed schema of the SpineGuide knowledge base (pydantic v2).

All clinical content lives in YAML under ``knowledge/data``; these models validate it at load time.
Conventions:

* every entry names its sources (ids from ``sources.yaml``);
* every number the reasoning uses carries a source id or ``expert_estimate: true`` + ``rationale``;
* what one seed article says about a shared item is an ``ArticleStatement`` (facts in our own words),
  so an item shared across articles (a drug, TENS, core exercise) lives once with per-article notes.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

# ---------------------------------------------------------------------------------------------
# Contract vocabularies (PRODUCT.md "Contracts"): stable identifiers other tools rely on.
# ---------------------------------------------------------------------------------------------


class Urgency(StrEnum):
    """Triage urgency, most urgent first."""

    emergency = "emergency"
    urgent = "urgent"
    routine = "routine"
    self_care = "self_care"


URGENCY_RANK: dict[Urgency, int] = {
    Urgency.emergency: 3,
    Urgency.urgent: 2,
    Urgency.routine: 1,
    Urgency.self_care: 0,
}

ROOTS: tuple[str, ...] = ("L1", "L2", "L3", "L4", "L5", "S1")
LEVELS: tuple[str, ...] = ("T12-L1", "L1-L2", "L2-L3", "L3-L4", "L4-L5", "L5-S1")
SIDES: tuple[str, ...] = ("left", "right", "bilateral")

DIAGNOSIS_IDS: dict[str, tuple[str, ...]] = {
    "seed": (
        "disc-calcification",
        "nerve-root-compression",
        "foraminal-stenosis",
        "disc-sequestration",
        "disc-herniation",
        "lumbar-spinal-stenosis",
        "lateral-recess-stenosis",
        "degenerative-spondylolisthesis",
        "facet-synovial-cyst",
        "facet-joint-arthropathy",
        "degenerative-disc-disease",
        "nonspecific-low-back-pain",
    ),
    "red_flag": (
        "cauda-equina-syndrome",
        "spinal-infection",
        "spinal-malignancy",
        "vertebral-fracture",
        "spinal-epidural-hematoma",
        "abdominal-aortic-aneurysm",
        "axial-spondyloarthritis",
        "aortic-dissection",
        "intradural-tumour",
    ),
    "mimic": (
        "hip-osteoarthritis",
        "meralgia-paresthetica",
        "femoral-neuropathy",
        "diabetic-amyotrophy",
        "greater-trochanteric-pain-syndrome",
        "sacroiliac-joint-pain",
        "peripheral-arterial-disease",
        "intradural-disc-herniation",
        "epidural-lipomatosis",
    ),
}
ALL_DIAGNOSIS_IDS: tuple[str, ...] = tuple(i for ids in DIAGNOSIS_IDS.values() for i in ids)

CONTRACT_IMAGING_FINDING_IDS: tuple[str, ...] = (
    "disc_bulge",
    "disc_protrusion",
    "disc_extrusion",
    "disc_sequestration",
    "disc_herniation",
    "canal_stenosis",
    "foraminal_stenosis",
    "lateral_recess_stenosis",
    "nerve_root_compression",
    "cauda_equina_compression",
    "facet_arthropathy",
    "ligamentum_flavum_hypertrophy",
    "spondylolisthesis",
    "synovial_cyst",
    "disc_calcification",
    "modic_change",
    "disc_degeneration",
    "annular_fissure",
    "fracture",
    "bone_lesion",
    "epidural_collection",
    "hematoma",
)
ADDED_IMAGING_FINDING_IDS: tuple[str, ...] = (
    # added after the first contract (red-flag and non-spinal lesions); the gold sets, annotated
    # with the 22 ids above, do not score these
    "discitis",
    "aortic_aneurysm",
    "aortic_dissection",
    "intradural_mass",
    "epidural_lipomatosis",
    "hip_arthritis",
    "iliopsoas_hematoma",
    "psoas_abscess",
)
IMAGING_FINDING_IDS: tuple[str, ...] = CONTRACT_IMAGING_FINDING_IDS + ADDED_IMAGING_FINDING_IDS


class Strict(BaseModel):
    """Base model: unknown keys are errors, so typos in YAML are caught at load."""

    # defer_build: a validator is built the first time a model validates or serialises. A cold
    # command reads the validated knowledge base from its cache and never validates most of
    # these models, so building ~90 validators at import was wasted (about 40 ms of `assess`).
    model_config = ConfigDict(
        extra="forbid", frozen=False, str_strip_whitespace=True, defer_build=True
    )


# ---------------------------------------------------------------------------------------------
# Sources and evidence
# ---------------------------------------------------------------------------------------------


class SourceKind(StrEnum):
    """What kind of document a source is."""

    seed_article = "seed_article"
    guideline = "guideline"
    drug_label = "drug_label"
    paper = "paper"
    reference = "reference"
    code_set = "code_set"
    expert = "expert"


class Source(Strict):
    """One entry of the sources registry."""

    id: str
    kind: SourceKind
    title: str
    publisher: str | None = None
    date: str | None = None  # ISO date or year as published
    url: str | None = None
    file: str | None = None  # seed file name under shared/seeds
    condition: str | None = None  # for seed articles: the KB condition/topic it describes
    citation: str | None = None
    notes: str | None = None


class Number(Strict):
    """A number used by the reasoning, with provenance (source id or expert estimate)."""

    value: float
    source: str | None = None
    expert_estimate: bool = False
    rationale: str | None = None

    @model_validator(mode="after")
    def _provenance(self) -> Number:
        if not self.source and not self.expert_estimate:
            raise ValueError("a number needs a source id or expert_estimate: true")
        if self.expert_estimate and not self.rationale:
            raise ValueError("an expert estimate needs a one-line rationale")
        return self


class Stance(StrEnum):
    """A guideline's verdict on a treatment."""

    recommended = "recommended"  # NICE "offer", ACP strong rec, WHO "should be offered"
    consider = "consider"  # NICE "consider", ACP weak rec, WHO conditional "may be offered"
    package_only = "package_only"  # NICE: only as part of a package including exercise
    do_not_offer = "do_not_offer"  # NICE "do not offer", WHO "should not be used routinely"
    not_routinely = "not_routinely"  # NICE "do not routinely offer"
    no_recommendation = "no_recommendation"  # addressed, insufficient evidence either way
    not_addressed = "not_addressed"  # the guideline does not mention it


GUIDELINE_IDS: tuple[str, ...] = ("nice-ng59", "acp-2017", "who-2023")


class GuidelineStance(Strict):
    """One guideline's verdict on a treatment, with recommendation number and population."""

    guideline: str  # source id: nice-ng59 | acp-2017 | who-2023 (others allowed, e.g. nass-2012)
    stance: Stance
    recommendation: str | None = None  # e.g. "1.2.11" or "Rec 1"
    population: str | None = None  # e.g. "low back pain", "sciatica", "chronic primary LBP"
    grade: str | None = None  # e.g. "strong, moderate-quality" or "C, VL"
    note: str | None = None
    confidence: Literal["primary", "secondary", "weak", "unconfirmed"] = "secondary"


class ArticleStatement(Strict):
    """What one article says about an item, restated in our own words.

    ``section`` is the canonical section key (see ``SECTION_KEYS``). Only the fields the article
    states are filled; coverage checks them field by field.
    """

    source: str
    section: str
    item: int | None = None  # 1-based index of the item in that article section, when unnamed
    name_in_source: str | None = None  # the heading the article used, if it differs from ours
    description: str | None = None
    purpose: str | None = None
    mechanism: str | None = None
    function: str | None = None
    dose: str | None = None
    timing: str | None = None
    max_daily: str | None = None
    side_effects: list[str] = Field(default_factory=list)
    drug_class: str | None = None
    procedure: str | None = None
    benefits: str | None = None
    positive_means: str | None = None
    note: str | None = None  # condition-specific note where articles differ


SECTION_KEYS: tuple[str, ...] = (
    "definition",
    "anatomy",
    "functions",
    "types",
    "causes",
    "symptoms",
    "diagnostic_tests",
    "non_drug_treatments",
    "drugs",
    "supplements",
    "advanced_therapies",
    "surgery",
    "prevention",
    "when_to_see_doctor",
    "dos",
    "donts",
    "faqs",
    "treatments",  # prose article: treatments named in paragraphs
)


class Sourced(Strict):
    """Mixin-like base: an entry with sources."""

    sources: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Findings vocabulary (shared by symptoms, tests, text extraction and reasoning)
# ---------------------------------------------------------------------------------------------


class FindingKind(StrEnum):
    """What sort of evidence a finding is."""

    symptom = "symptom"
    sign = "sign"
    exam = "exam"
    red_flag = "red_flag"
    history = "history"
    demographic = "demographic"
    lab = "lab"
    imaging = "imaging"
    course = "course"


class Finding(Strict):
    """One evidence id: a symptom, sign, exam result, history item, lab or demographic."""

    id: str
    name: str
    kind: FindingKind
    patient_name: str | None = None  # plain-language label
    lateralized: bool = False  # may carry a side
    value_unit: str | None = None  # for labs / numeric findings (e.g. "mg/L")
    normal_range: tuple[float, float] | None = None
    abnormal_above: float | None = None  # value above which the finding counts as present
    abnormal_below: float | None = None
    roots: list[str] = Field(default_factory=list)  # dermatomal/myotomal link, if any
    description: str | None = None
    sources: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Anatomy: roots and levels
# ---------------------------------------------------------------------------------------------


class RootMuscle(Strict):
    """A key muscle/movement tested for a root."""

    action: str  # e.g. "knee extension"
    muscle: str  # e.g. "quadriceps"
    finding: str | None = None  # weakness finding id, e.g. knee_extension_weakness
    sources: list[str] = Field(default_factory=list)


class RootAnatomy(Strict):
    """Dermatome, myotome, reflex and tension tests for one lumbar/sacral root."""

    root: str
    dermatome: str
    sensory_findings: list[str] = Field(default_factory=list)  # sensory-loss finding ids
    pain_findings: list[str] = Field(default_factory=list)  # pain-distribution finding ids
    myotome: list[RootMuscle] = Field(default_factory=list)
    reflex: str | None = None
    reflex_finding: str | None = None
    tension_tests: list[str] = Field(default_factory=list)  # diagnostic test ids
    notes: str | None = None  # where sources disagree
    sources: list[str] = Field(default_factory=list)


class LevelAnatomy(Strict):
    """Which roots a lesion at a disc level affects (exiting vs traversing)."""

    level: str
    exiting_root: str | None  # compressed by foraminal / far-lateral lesions
    traversing_root: str | None  # compressed by paracentral / subarticular lesions
    sources: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Diagnostic tests
# ---------------------------------------------------------------------------------------------


class TestCategory(StrEnum):
    """Category of a diagnostic test, as the seed template groups them."""

    physical = "physical"
    provocative = "provocative"
    laboratory = "laboratory"
    electrodiagnostic = "electrodiagnostic"
    imaging = "imaging"


class AccuracyFigure(Strict):
    """Published accuracy of a test for a target condition."""

    target: str  # what it detects, e.g. "L2-L4 root impingement"
    sensitivity: float | None = None
    specificity: float | None = None
    lr_positive: float | None = None
    lr_negative: float | None = None
    population: str | None = None
    source: str
    note: str | None = None


class DiagnosticTest(Strict):
    """A diagnostic test (exam manoeuvre, lab, electrodiagnostic study or imaging)."""

    __test__ = False  # keep pytest from collecting this class

    id: str
    name: str
    aliases: list[str] = Field(default_factory=list)
    category: TestCategory
    description: str
    positive_means: str
    patient_description: str | None = None
    findings: list[str] = Field(default_factory=list)  # finding ids this test produces
    accuracy: list[AccuracyFigure] = Field(default_factory=list)
    article_statements: list[ArticleStatement] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Treatments (non-drug, supplements, advanced therapies, procedures) and drugs
# ---------------------------------------------------------------------------------------------


class PlanTier(StrEnum):
    """Step of the stepped care plan a treatment belongs to."""

    self_management = "self_management"
    non_drug = "non_drug"
    drug = "drug"
    supplement = "supplement"
    injection = "injection"
    advanced = "advanced"
    surgery = "surgery"


class Therapy(Strict):
    """A non-drug treatment, supplement, advanced/regenerative therapy or surgical procedure."""

    id: str
    name: str
    aliases: list[str] = Field(default_factory=list)
    kind: Literal["non_drug", "supplement", "advanced", "procedure"]
    category: str  # e.g. electrotherapy, exercise, mind_body, education, decompression, fusion
    tier: PlanTier
    description: str
    patient_description: str | None = None
    purpose: str | None = None
    mechanism: str | None = None
    usual_dose: str | None = None  # supplements / injectables
    indications: list[str] = Field(default_factory=list)  # procedures: when indicated
    benefits: str | None = None
    risks: list[str] = Field(default_factory=list)
    recovery: str | None = None
    evidence_note: str | None = None  # plain summary of evidence quality
    guideline_stances: list[GuidelineStance] = Field(default_factory=list)
    article_statements: list[ArticleStatement] = Field(default_factory=list)
    conditions: list[str] = Field(default_factory=list)  # diagnosis ids it is used for
    sources: list[str] = Field(default_factory=list)


class DoseLimit(Strict):
    """A reference dose and daily maximum for a route/population, with provenance."""

    route: str = "oral"
    population: str = "adult"
    usual: str
    max_daily_mg: float | None = None
    max_single_mg: float | None = None
    max_days: float | None = None
    source: str | None = None
    expert_estimate: bool = False
    rationale: str | None = None
    label: str | None = None  # e.g. "product-label maximum" vs "hard ceiling"

    @model_validator(mode="after")
    def _provenance(self) -> DoseLimit:
        if not self.source and not self.expert_estimate:
            raise ValueError("a dose limit needs a source id or expert_estimate: true")
        return self


class OrganRule(Strict):
    """A renal or hepatic adjustment rule."""

    kind: Literal["renal", "hepatic"]
    crcl_below: float | None = None  # renal: applies when CrCl/eGFR (mL/min) is below this
    crcl_at_least: float | None = None
    child_pugh: Literal["A", "B", "C"] | None = None  # hepatic class, if graded
    liver_disease: bool = False  # hepatic rule applying to any liver disease / heavy alcohol use
    action: Literal["avoid", "contraindicated", "reduce", "max_dose", "monitor", "caution"]
    max_daily_mg: float | None = None
    text: str
    source: str | None = None
    expert_estimate: bool = False
    rationale: str | None = None


class BeersEntry(Strict):
    """A 2023 AGS Beers Criteria row for people 65 and over."""

    table: str  # "2", "3", "4", "5", "6"
    recommendation: str
    condition: str | None = None  # e.g. "history of falls", "CrCl < 30"
    quality: str | None = None
    strength: str | None = None
    source: str = "beers-2023"


class SafetyWarning(Strict):
    """A boxed warning, safety communication or pregnancy caution."""

    kind: Literal["boxed", "safety_communication", "pregnancy", "other"]
    text: str
    source: str


class RxNorm(Strict):
    """An RxNorm ingredient code and how sure we are of it."""

    rxcui: str
    confirmed: bool
    source: str | None = None


class Drug(Strict):
    """A medicine: reference data for safety checks plus what each article says about it."""

    id: str
    name: str
    aliases: list[str] = Field(default_factory=list)  # incl. brand and UK names
    drug_class: str  # display class, e.g. "NSAID"
    classes: list[str] = Field(default_factory=list)  # rule-engine classes: nsaid, opioid, snri…
    routes: list[str] = Field(default_factory=lambda: ["oral"])
    rxnorm: RxNorm | None = None
    description: str
    patient_description: str | None = None
    mechanism: str | None = None
    dose_limits: list[DoseLimit] = Field(default_factory=list)
    organ_rules: list[OrganRule] = Field(default_factory=list)
    beers: list[BeersEntry] = Field(default_factory=list)
    warnings: list[SafetyWarning] = Field(default_factory=list)
    guideline_stances: list[GuidelineStance] = Field(default_factory=list)
    article_statements: list[ArticleStatement] = Field(default_factory=list)
    combination_of: list[str] = Field(default_factory=list)  # ingredient drug ids
    sources: list[str] = Field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Conditions (seed conditions, red-flag conditions, mimics, and the prose article's topic)
# ---------------------------------------------------------------------------------------------


class IcdCode(Strict):
    """An ICD-10-CM code (validated as billable in tests) and when it applies."""

    code: str
    description: str
    applies_when: str | None = None
    primary: bool = False


class ConditionType(Strict):
    """A subtype/classification from the article's "Types" section."""

    id: str
    name: str
    aliases: list[str] = Field(default_factory=list)
    description: str
    criteria: str | None = None  # classification criteria in words
    criteria_range: tuple[float, float] | None = None  # e.g. percent narrowing [25, 50]
    criteria_unit: str | None = None
    imaging_match: dict[str, str] = Field(default_factory=dict)  # e.g. {severity: moderate}
    sources: list[str] = Field(default_factory=list)


class Cause(Strict):
    """A cause or risk factor."""

    id: str
    name: str
    aliases: list[str] = Field(default_factory=list)
    description: str
    diagnosis: str | None = None  # linked diagnosis id when the cause is itself a diagnosis
    risk_factor: bool = False
    sources: list[str] = Field(default_factory=list)


class Symptom(Strict):
    """A symptom or sign of the condition, linked to the shared findings vocabulary."""

    id: str
    name: str
    aliases: list[str] = Field(default_factory=list)
    description: str
    finding: str  # finding id
    roots: list[str] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)


class TextItem(Strict):
    """An unnamed list item (prevention tip, do, don't), tied to the article item it restates."""

    text: str
    patient_text: str | None = None
    refs: list[ArticleRef] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)


class ArticleRef(Strict):
    """Pointer to one ingested article item: source id, canonical section key, 1-based index."""

    source: str
    section: str
    item: int


class SeekCare(Strict):
    """A "when to see a doctor" item linked to a red-flag rule and an urgency."""

    text: str
    urgency: Urgency
    red_flag_rule: str | None = None  # id in red_flags.yaml
    refs: list[ArticleRef] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)


class Faq(Strict):
    """A frequently asked question with our own answer."""

    question: str
    answer: str
    refs: list[ArticleRef] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)


class BackgroundNote(Strict):
    """Extra article content outside the template (anatomy, disc functions)."""

    id: str
    title: str
    section: str  # anatomy | functions | definition
    text: str
    refs: list[ArticleRef] = Field(default_factory=list)
    sources: list[str] = Field(default_factory=list)


class ManagementStep(Strict):
    """One step of condition-specific management (used for conditions outside the seed articles)."""

    tier: PlanTier
    text: str
    patient_text: str | None = None
    therapy: str | None = None  # therapy id, when the step is a KB therapy
    drug: str | None = None  # drug id, when the step is a KB drug
    when: str | None = None  # e.g. "if no improvement after 6 weeks"
    sources: list[str] = Field(default_factory=list)


class Condition(Strict):
    """A diagnosis (or the prose article's topic) with everything the KB knows about it."""

    id: str
    name: str
    aliases: list[str] = Field(default_factory=list)
    group: Literal["seed", "red_flag", "mimic", "topic"]
    definition: str
    patient_summary: str
    icd10cm: list[IcdCode] = Field(default_factory=list)
    seed_article: str | None = None  # source id of the seed article describing it
    key_features: list[str] = Field(default_factory=list)  # distinguishing features
    distinguish_from: dict[str, str] = Field(default_factory=dict)  # diagnosis id -> how
    default_urgency: Urgency = Urgency.routine
    first_investigations: list[str] = Field(default_factory=list)  # diagnostic test ids
    types: list[ConditionType] = Field(default_factory=list)
    causes: list[Cause] = Field(default_factory=list)
    symptoms: list[Symptom] = Field(default_factory=list)
    background: list[BackgroundNote] = Field(default_factory=list)
    prevention: list[TextItem] = Field(default_factory=list)
    when_to_see_doctor: list[SeekCare] = Field(default_factory=list)
    dos: list[TextItem] = Field(default_factory=list)
    donts: list[TextItem] = Field(default_factory=list)
    faqs: list[Faq] = Field(default_factory=list)
    management: list[ManagementStep] = Field(default_factory=list)
    prognosis: str | None = None
    sources: list[str] = Field(default_factory=list)


TextItem.model_rebuild()

# ---------------------------------------------------------------------------------------------
# Omissions: article items deliberately left out of the KB, with the reason
# ---------------------------------------------------------------------------------------------


class Omission(Strict):
    """An ingested article item intentionally not represented, with the reason recorded."""

    source: str
    section: str
    item: int | None = None
    name: str | None = None
    reason: str


# ---------------------------------------------------------------------------------------------
# Red-flag rules (triage)
# ---------------------------------------------------------------------------------------------


class RuleGroup(Strict):
    """A group of a rule: at least `min` of the findings in `any` must be present."""

    any: list[str]
    min: int = 1


class RedFlagRule(Strict):
    """A triage rule: fires when every group is met; escalates with any `escalate_with` finding."""

    id: str
    name: str
    urgency: Urgency
    escalated_urgency: Urgency | None = None
    escalate_with: list[str] = Field(default_factory=list)
    condition: str | None = None
    all: list[RuleGroup]
    action: str
    rationale: str | None = None
    sources: list[str] = Field(min_length=1)
