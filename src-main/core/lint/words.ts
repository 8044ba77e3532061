// Category names in sentences: "a dress", but "footwear" and "pants" take no article.

/** Names that read as a mass or a plural: clothing words in -wear, and pants, shorts, jeans, tights (not dress, glass). */
function isMassNoun(name: string): boolean {
  return /(wear|clothing|gear|[^s]s)$/i.test(name.trim());
}

/** "a dress", "an umbrella", "footwear", "pants". */
export function withArticle(name: string): string {
  if (isMassNoun(name)) return name;
  return `${/^[aeiou]/i.test(name) && !/^(eu|uni|use)/i.test(name) ? 'an' : 'a'} ${name}`;
}

/** What one of them is called: "skirt", "footwear box", "pants box". */
export function oneOf(name: string): string {
  return isMassNoun(name) ? `${name} box` : name;
}

/** The plural: "skirt boxes", "footwear boxes". */
export function boxesOf(name: string): string {
  return `${name} boxes`;
}
