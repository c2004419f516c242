import { ApiError, errorText } from '../api';

/** What a key without admin rights sees instead of an admin page: the API's own answer. */
export function AdminRefusal({ error }: { error: unknown }) {
  const forbidden = error instanceof ApiError && error.status === 403;
  return (
    <section class="card refusal" role="alert" data-testid="admin-refused">
      <h1>{forbidden ? 'Admins only' : 'Cannot load this page'}</h1>
      <p>{forbidden ? `The API refused this key (403): ${errorText(error)}` : errorText(error)}</p>
      {forbidden && <p>This page needs a platform admin key. Sign out and sign in with one to manage Algorithmia Insights.</p>}
    </section>
  );
}

export const isForbidden = (err: unknown): boolean => err instanceof ApiError && (err.status === 403 || err.status === 401);
