"""The shared training loop: early stopping, best-weight restore, kill-and-resume equivalence."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from acacia.errors import ParamsError
from acacia.training.loop import TrainConfig, WeightAverage, fit, plateaued, resolve_device


def make_problem(seed: int = 0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(256, 4, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [0.0]]) + 0.1 * torch.randn(256, 1, generator=g)
    data = torch.cat([x, y], dim=1)
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(0.1), nn.Linear(16, 1))
    return net, data


def mse(module, batch):
    return ((module(batch[:, :4]) - batch[:, 4:]) ** 2).mean()


def test_loss_goes_down_and_history_is_recorded():
    net, data = make_problem()
    res = fit(net, mse, data, TrainConfig(max_epochs=30, batch_size=32, lr=1e-2, patience=50, progress=False))
    assert len(res.history) == 30
    assert res.history[-1]["train_loss"] < 0.3 * res.history[0]["train_loss"]
    assert res.best_epoch > 0 and res.epochs_saved == 0


def test_early_stopping_restores_best_weights():
    net, data = make_problem()
    cfg = TrainConfig(max_epochs=500, batch_size=32, lr=3e-2, patience=5, progress=False)
    res = fit(net, mse, data, cfg)
    assert res.stopped_epoch < 500 and res.epochs_saved == 500 - res.stopped_epoch
    assert res.stopped_epoch - res.best_epoch == 5
    # The module holds the best epoch's weights: its validation loss equals the best one.
    split = torch.randperm(len(data), generator=torch.Generator().manual_seed(cfg.seed))
    val = data[split[:26]]
    net.eval()
    with torch.no_grad():
        assert float(mse(net, val)) == pytest.approx(res.best_val_loss, rel=1e-5)


@pytest.mark.parametrize(("ema_decay", "lr_decay_factor"), [(None, None), (0.9, None), (0.9, 0.5)])
def test_interrupted_run_resumes_to_the_same_state(tmp_path, ema_decay, lr_decay_factor):
    cfg = TrainConfig(max_epochs=12, batch_size=32, lr=1e-2, patience=100, checkpoint_every=2, progress=False,
                      ema_decay=ema_decay, lr_decay_factor=lr_decay_factor, lr_decay_patience=1)
    net_a, data = make_problem()
    full = fit(net_a, mse, data, cfg)

    class Killed(Exception):
        pass

    def kill_at_7(epoch, _row):
        if epoch == 7:
            raise Killed  # the last checkpoint is epoch 6: epoch 7's work is lost, as in a kill

    net_b, _ = make_problem()
    with pytest.raises(Killed):
        fit(net_b, mse, data, cfg, checkpoint_dir=tmp_path, on_epoch_end=kill_at_7)
    net_c, _ = make_problem()
    resumed = fit(net_c, mse, data, cfg, checkpoint_dir=tmp_path)
    assert [r["epoch"] for r in resumed.history] == list(range(1, 13))
    assert resumed.best_val_loss == full.best_val_loss
    assert resumed.history == full.history  # the learning rates included
    for pa, pc in zip(net_a.state_dict().values(), net_c.state_dict().values(), strict=True):
        assert torch.equal(pa, pc)


def test_learning_rate_is_reduced_on_plateau():
    net, data = make_problem()
    cfg = TrainConfig(max_epochs=60, batch_size=32, lr=3e-2, patience=100, progress=False,
                      lr_decay_factor=0.5, lr_decay_patience=3)
    res = fit(net, mse, data, cfg)
    # Replay the rule on the recorded losses: the lr of epoch e+1 is that of epoch e, halved once
    # 3 epochs in a row have not beaten the best (the count restarting at each reduction).
    best, plateau, lr = float("inf"), 0, cfg.lr
    for row in res.history:
        assert row["lr"] == pytest.approx(lr, rel=1e-12)
        if row["val_loss"] < best:
            best, plateau = row["val_loss"], 0
        else:
            plateau += 1
            if plateau == 3:
                lr, plateau = lr * 0.5, 0
    assert res.history[-1]["lr"] < cfg.lr  # the toy problem plateaus within 60 epochs
    constant = fit(make_problem()[0], mse, data, TrainConfig(max_epochs=5, batch_size=32, progress=False))
    assert {row["lr"] for row in constant.history} == {1e-3}
    with pytest.raises(ParamsError, match="training.lr_decay_factor"):
        TrainConfig.from_params({"lr_decay_factor": 1.5})
    with pytest.raises(ParamsError, match="training.lr_decay_patience"):
        TrainConfig.from_params({"lr_decay_patience": 0})


def test_patience_in_steps_is_the_same_rule_at_every_data_size():
    # 230 training rows in batches of 32: 8 steps an epoch. 40 steps of patience = 5 epochs and
    # 24 steps before a reduction = 3 epochs: the run is the epoch-counted one, step for step.
    net_a, data = make_problem()
    epochs = fit(net_a, mse, data, TrainConfig(max_epochs=500, batch_size=32, lr=3e-2, patience=5, progress=False,
                                               lr_decay_factor=0.5, lr_decay_patience=3))
    net_b, _ = make_problem()
    steps = fit(net_b, mse, data, TrainConfig(max_epochs=500, batch_size=32, lr=3e-2, patience=40, progress=False,
                                              lr_decay_factor=0.5, lr_decay_patience=24, patience_unit="steps"))
    assert steps.history == epochs.history and steps.stopped_epoch < 500
    # A count that is not a whole number of epochs rounds up; an epoch longer than the patience
    # leaves one epoch (validation runs once an epoch).
    cfg = TrainConfig(patience=870, lr_decay_patience=290, patience_unit="steps")
    assert cfg.patience_epochs(29) == (30, 10)  # the default portfolio: 7,200 rows of 256
    assert cfg.patience_epochs(352) == (3, 1)  # 90,000 rows of 256
    assert cfg.patience_epochs(10_000) == (1, 1)
    assert TrainConfig(patience=30, lr_decay_patience=10).patience_epochs(352) == (30, 10)
    with pytest.raises(ParamsError, match="training.patience_unit.*'epochs' or 'steps'"):
        TrainConfig.from_params({"patience_unit": "rows"})


def test_min_delta_is_asked_of_the_whole_patience_window():
    # A loss falling 0.01 an epoch: no epoch beats the best by 0.025, but 3 epochs do.
    slow = [1.0 - 0.01 * i for i in range(10)]
    assert not plateaued(slow, patience=3, min_delta=0.025)
    assert plateaued(slow, patience=2, min_delta=0.025)
    assert not plateaued(slow[:3], patience=3)  # never before patience + 1 epochs
    assert plateaued([1.0, 0.5, 0.6, 0.5], patience=2)  # min_delta 0: no new best in the window
    assert not plateaued([1.0, 0.5, 0.6, 0.49], patience=2)
    # In a run, min_delta stops sooner, and the weights kept are still those of the lowest loss.
    net, data = make_problem()
    base = dict(max_epochs=300, batch_size=32, lr=3e-2, patience=5, progress=False)
    loose = fit(net, mse, data, TrainConfig(**base, min_delta=0.05))
    net_b, _ = make_problem()
    strict = fit(net_b, mse, data, TrainConfig(**base))
    assert loose.stopped_epoch < strict.stopped_epoch
    assert loose.history == strict.history[: loose.stopped_epoch]
    losses = [h["val_loss"] for h in loose.history]
    assert loose.best_epoch == 1 + losses.index(min(losses))
    with pytest.raises(ParamsError, match="training.min_delta"):
        TrainConfig.from_params({"min_delta": -0.1})


def test_config_errors_name_the_key():
    with pytest.raises(ParamsError, match="unknown key.*epochs"):
        TrainConfig.from_params({"epochs": 3})
    with pytest.raises(ParamsError, match="val_fraction"):
        TrainConfig.from_params({"val_fraction": 1.5})
    assert resolve_device("auto").type in ("cpu", "cuda")


def test_max_steps_stops_mid_epoch_and_counts_steps():
    net, data = make_problem()
    # 230 training rows in batches of 32: 8 steps an epoch, so 11 steps end inside epoch 2.
    cfg = TrainConfig(max_epochs=50, batch_size=32, patience=50, max_steps=11, progress=False)
    res = fit(net, mse, data, cfg)
    assert (res.steps, res.steps_per_epoch, res.stopped_epoch, len(res.history)) == (11, 8, 2, 2)
    assert res.first_step_seconds > 0 and res.step_seconds > 0
    assert res.validation_seconds > 0
    assert res.seconds >= res.first_step_seconds + res.step_seconds + res.validation_seconds
    # Without a step cap the run is the one it always was.
    full = fit(make_problem()[0], mse, data, TrainConfig(max_epochs=3, batch_size=32, patience=50, progress=False))
    assert (full.steps, full.stopped_epoch) == (24, 3)
    with pytest.raises(ParamsError, match="training.max_steps"):
        TrainConfig.from_params({"max_steps": 0})


def test_checkpoint_written_before_max_steps_existed_still_resumes(tmp_path):
    cfg = TrainConfig(max_epochs=4, batch_size=32, patience=100, checkpoint_every=2, progress=False)
    net, data = make_problem()
    fit(net, mse, data, cfg, checkpoint_dir=tmp_path)
    state = torch.load(tmp_path / "checkpoint.pt", weights_only=False)
    del state["config"]["max_steps"]  # the layout of checkpoints written by older versions
    torch.save(state, tmp_path / "checkpoint.pt")
    # Accepted (no "other training params" error): the missing key takes its default, None.
    assert fit(make_problem()[0], mse, data, cfg, checkpoint_dir=tmp_path).stopped_epoch == 4


class _TinyGAN(nn.Module):
    """Two players, each with its own optimizer, as an adversarial model uses the loop."""

    def __init__(self) -> None:
        super().__init__()
        self.gen = nn.Sequential(nn.Linear(2, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Linear(8, 5))
        self.disc = nn.Sequential(nn.Linear(5, 8), nn.LeakyReLU(0.2), nn.Dropout(0.5), nn.Linear(8, 1))


def gan_optimizers(module, cfg):
    return [torch.optim.Adam(module.gen.parameters(), lr=cfg.lr, betas=(0.5, 0.9)),
            torch.optim.Adam(module.disc.parameters(), lr=cfg.lr, betas=(0.5, 0.9))]


def gan_step(module, batch, optims):
    opt_g, opt_d = optims
    fake = module.gen(torch.randn(len(batch), 2))
    loss_d = module.disc(fake.detach()).mean() - module.disc(batch).mean()
    opt_d.zero_grad(set_to_none=True)
    loss_d.backward()
    opt_d.step()
    loss_g = -module.disc(module.gen(torch.randn(len(batch), 2))).mean()
    opt_g.zero_grad(set_to_none=True)
    loss_g.backward()
    opt_g.step()
    return float(loss_d.detach())


def gan_criterion(module, batch):
    fake = module.gen(torch.randn(len(batch), 2))
    return (fake.mean(0) - batch.mean(0)).abs().sum()


@pytest.fixture
def one_thread():
    # Tiny matrices: on a busy machine, torch's intra-op threads spin-wait for each other and
    # multiply this test's time by about 30.
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


def test_two_optimizer_run_resumes_to_the_same_state(tmp_path, one_thread):
    cfg = TrainConfig(max_epochs=10, batch_size=32, lr=1e-3, patience=100, checkpoint_every=3, progress=False)
    _, data = make_problem()

    def run(**kw):
        torch.manual_seed(1)
        net = _TinyGAN()
        return net, fit(net, gan_criterion, data, cfg, optimizers=gan_optimizers, step=gan_step, **kw)

    net_a, full = run()
    assert full.history[-1]["val_loss"] != full.history[0]["val_loss"]  # both players moved

    class Killed(Exception):
        pass

    def kill_at_8(epoch, _row):
        if epoch == 8:
            raise Killed  # the last checkpoint is epoch 6: Adam moments of both players must resume

    with pytest.raises(Killed):
        run(checkpoint_dir=tmp_path, on_epoch_end=kill_at_8)
    assert len(torch.load(tmp_path / "checkpoint.pt", weights_only=False)["optims"]) == 2
    net_c, resumed = run(checkpoint_dir=tmp_path)
    assert [r["epoch"] for r in resumed.history] == list(range(1, 11))
    assert resumed.history == full.history
    for pa, pc in zip(net_a.state_dict().values(), net_c.state_dict().values(), strict=True):
        assert torch.equal(pa, pc)


def test_weight_average_is_the_warmed_up_exponential_average():
    net = nn.Linear(1, 1)
    average = WeightAverage(net, decay=0.5)
    expected = net.weight.detach().clone()
    for n, value in enumerate([1.0, 2.0, 4.0], start=1):
        with torch.no_grad():
            net.weight.fill_(value)
        average.update(net)
        d = min(0.5, (1 + n) / (10 + n))
        expected = d * expected + (1 - d) * value
        assert torch.allclose(average.state["weight"], expected)
    live = net.weight.detach().clone()
    average.swap(net)
    assert torch.allclose(net.weight, expected)
    average.swap(net)
    assert torch.equal(net.weight, live)


def test_averaged_weights_are_validated_and_returned():
    net, data = make_problem()
    cfg = TrainConfig(max_epochs=15, batch_size=32, lr=3e-2, patience=100, progress=False, ema_decay=0.95)
    res = fit(net, mse, data, cfg)
    split = torch.randperm(len(data), generator=torch.Generator().manual_seed(cfg.seed))
    net.eval()
    with torch.no_grad():
        assert float(mse(net, data[split[:26]])) == pytest.approx(res.best_val_loss, rel=1e-5)
    raw = fit(make_problem()[0], mse, data, TrainConfig(max_epochs=15, batch_size=32, lr=3e-2, patience=100,
                                                        progress=False))
    assert [r["train_loss"] for r in res.history] == [r["train_loss"] for r in raw.history]  # same live run
    assert [r["val_loss"] for r in res.history] != [r["val_loss"] for r in raw.history]
    with pytest.raises(ParamsError, match="training.ema_decay"):
        TrainConfig.from_params({"ema_decay": 1.0})


def test_train_stage_discards_a_checkpoint_of_another_run(tmp_path, capsys):
    from acacia.stages.train import STAMP, prepare_checkpoint_dir, run_fingerprint

    data = tmp_path / "split"
    data.mkdir()
    (data / "customers.parquet").write_bytes(b"rows")
    first = run_fingerprint({"seed": 0, "training": {"max_epochs": 5}}, data, "tvae_variant")
    assert run_fingerprint({"training": {"max_epochs": 5}, "seed": 0}, data, "tvae_variant") == first
    ckpt = tmp_path / "ckpt"
    prepare_checkpoint_dir(ckpt, first)
    (ckpt / "checkpoint.pt").write_bytes(b"weights")
    # The same run (a killed repro restarted) keeps its checkpoint and says nothing.
    prepare_checkpoint_dir(ckpt, first)
    assert (ckpt / "checkpoint.pt").exists() and capsys.readouterr().err == ""
    # Other params, then other data: the checkpoint goes, with a message; the stamp is the new run's.
    other_params = run_fingerprint({"seed": 0, "training": {"max_epochs": 6}}, data, "tvae_variant")
    (data / "customers.parquet").write_bytes(b"other rows")
    other_data = run_fingerprint({"seed": 0, "training": {"max_epochs": 5}}, data, "tvae_variant")
    for changed in (other_params, other_data):
        assert changed != first
        (ckpt / "checkpoint.pt").write_bytes(b"weights")
        prepare_checkpoint_dir(ckpt, changed)
        assert not (ckpt / "checkpoint.pt").exists()
        assert "discarding" in capsys.readouterr().err
        assert (ckpt / STAMP).read_text().strip() == changed
    # A folder without a stamp (written before stamps existed) is not trusted either.
    (ckpt / STAMP).unlink()
    (ckpt / "checkpoint.pt").write_bytes(b"weights")
    prepare_checkpoint_dir(ckpt, first)
    assert not (ckpt / "checkpoint.pt").exists()
