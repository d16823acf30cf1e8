import { screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';

export type User = ReturnType<typeof userEvent.setup>;

/** Picks an option of a Grafana Select (react-select) by typing it and pressing Enter. */
export async function choose(user: User, label: string, option: string) {
  const input = screen.getByLabelText(label);
  await user.click(input);
  await user.type(input, option);
  await user.keyboard('{Enter}');
}

/** The radio button `option` of the RadioButtonGroup labelled `group`. */
export function radio(group: string, option: string | RegExp): HTMLElement {
  return within(screen.getByRole('radiogroup', { name: group })).getByRole('radio', { name: option });
}
