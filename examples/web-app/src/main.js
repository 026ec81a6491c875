// main.js - starts the greeter actor (src/greeter.c, in its own worker and
// wasm memory) and calls it from the form.
import { System } from 'ferry';

const result = document.querySelector('#result');
const show = (state, text) => {
  result.dataset.state = state;
  result.textContent = text;
};

async function main() {
  // `new URL(..., import.meta.url)`: vite copies the .wasm into the build.
  const sys = await System.start({ module: new URL('./greeter.wasm', import.meta.url) });
  const greeter = await sys.spawn('greeter');
  const greet = async () => {
    const name = document.querySelector('#name').value;
    const times = Number(document.querySelector('#times').value);
    try {
      show('done', await greeter.call('greet', { name, times }, { timeout: 5000 }));
    } catch (e) {
      show('error', `${e.code ?? e.name}: ${e.message}`); // e.g. EINVALID, naming the field
    }
  };
  document.querySelector('#form').addEventListener('submit', (e) => {
    e.preventDefault();
    greet();
  });
  show('ready', 'the actor runs');
  await greet();
}

main().catch((e) => {
  show('error', `${e.name}: ${e.message}`);
  console.error(e);
});
