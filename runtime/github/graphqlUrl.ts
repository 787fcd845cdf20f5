/**
 * GitHub's GraphQL endpoint for a REST API root. GitHub.com serves both at the same root
 * (`https://api.github.com/graphql`); GitHub Enterprise Server serves REST at `https://<host>/api/v3` and GraphQL at
 * `https://<host>/api/graphql` ("Forming calls with GraphQL", the GraphQL endpoint on GHES; @octokit/graphql derives
 * it the same way).
 */
export function graphqlUrl(baseUrl: string): string {
  const root = baseUrl.replace(/\/+$/, "");
  return /\/api\/v3$/.test(root) ? root.replace(/\/api\/v3$/, "/api/graphql") : `${root}/graphql`;
}
