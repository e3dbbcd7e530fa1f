// The admin API as the console calls it: JSON in, problems (RFC 9457) turned into Errors.
const TOKEN_KEY = "knstate-admin-token";

export class ApiError extends Error {
  constructor(status, problem) {
    super(problem.detail || problem.title || `HTTP ${status}`);
    this.status = status;
    this.problem = problem;
  }
}

export async function api(path, options = {}) {
  const headers = { accept: "application/json", ...(options.headers || {}) };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(path, { ...options, headers });
  const text = await response.text();
  const body = text === "" ? {} : JSON.parse(text);
  if (!response.ok) throw new ApiError(response.status, body);
  return body;
}

export function setToken(token) {
  if (token) sessionStorage.setItem(TOKEN_KEY, token);
  else sessionStorage.removeItem(TOKEN_KEY);
}

export const enc = encodeURIComponent;

/** The answer picked by `pick`, or null when the store does not offer the view (501). */
export async function optional(path, pick) {
  try {
    return pick(await api(path));
  } catch (error) {
    if (error instanceof ApiError && error.status === 501) return null;
    throw error;
  }
}
