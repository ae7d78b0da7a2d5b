import { ApiError } from '@pingan/contracts';

/** The error answers every route may give, for the OpenAPI document and response checks. */
export const ApiErrorSchemas = {
  400: ApiError,
  401: ApiError,
  403: ApiError,
  404: ApiError,
  409: ApiError,
  413: ApiError,
  422: ApiError,
  423: ApiError,
  429: ApiError,
  503: ApiError,
} as const;
