export default function Page() {
  return <h1>The monorepo's web app</h1>;
}
