"""Departments (a guide's `owner`) and their Danish names."""

DEFAULT_DEPARTMENT = "borgerservice"

DEPARTMENT_NAMES_DA = {
    "borgerservice": "Borgerservice",
    "sundhed": "Sundhed",
    "teknik-miljoe": "Teknik og Miljø",
    "skole-dagtilbud": "Skole og Dagtilbud",
    "ydelser": "Ydelser",
    "jobcenter": "Jobcenteret",
    "aeldre-omsorg": "Ældre og Omsorg",
}


def department_name(code: str | None) -> str:
    return DEPARTMENT_NAMES_DA.get(code or DEFAULT_DEPARTMENT, (code or "").capitalize())
