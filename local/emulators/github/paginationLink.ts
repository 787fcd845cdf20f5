/**
 * GitHub's `Link` header for a page of a list: `next`/`last` while pages follow, `prev`/`first` after the first page,
 * and no header at all when everything fits on one page ("Using pagination in the REST API",
 * https://docs.github.com/en/rest/using-the-rest-api/using-pagination-in-the-rest-api: "If … all results fit on a
 * single page, the link header will be omitted"). Hand-written: four URLs, no library writes GitHub's header.
 */
export function paginationLink(url: URL, page: number, perPage: number, total: number): Record<string, string> {
  const last = Math.max(Math.ceil(total / perPage), 1);
  if (last <= 1 && page <= 1) return {};
  const to = (target: number) => {
    const link = new URL(url);
    link.searchParams.set("per_page", String(perPage));
    link.searchParams.set("page", String(target));
    return `<${link.toString()}>`;
  };
  const links: string[] = [];
  if (page > 1) links.push(`${to(Math.min(page - 1, last))}; rel="prev"`);
  if (page < last) links.push(`${to(page + 1)}; rel="next"`, `${to(last)}; rel="last"`);
  if (page > 1) links.push(`${to(1)}; rel="first"`);
  return { link: links.join(", ") };
}
