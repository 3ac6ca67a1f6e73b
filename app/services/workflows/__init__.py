"""Image workflows: typed operations (a catalog with JSON Schemas) and recipes that chain them.

Plain Python on bytes and Pillow images; jobs, the REST API and the UI call these functions.
"""

from app.services.workflows.base import (
    FieldError,
    Frame,
    OpContext,
    Operation,
    OperationFailed,
    OpOutput,
    ParamsInvalid,
    RemoteNotConfigured,
    UnknownOperation,
)
from app.services.workflows.catalog import OPERATIONS, catalog, get_operation, validate_params
from app.services.workflows.recipes import (
    RECIPE_SCHEMA,
    PreparedRecipe,
    prepare_recipe,
    run_operation,
    run_recipe,
)

__all__ = [
    "OPERATIONS", "RECIPE_SCHEMA", "FieldError", "Frame", "OpContext", "OpOutput", "Operation", "OperationFailed",
    "ParamsInvalid", "PreparedRecipe", "RemoteNotConfigured", "UnknownOperation", "catalog",
    "get_operation", "prepare_recipe", "run_operation", "run_recipe", "validate_params",
]
