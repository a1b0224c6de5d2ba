"""The PPO scheduling agent (paper §3): MDP, training (torch) and numpy inference.

Importing this package imports nothing heavy: torch is imported only by :mod:`.ppo` and
:mod:`.train` (training), gymnasium only by :mod:`.env`. Compile-time inference uses
:mod:`.mdp` and :mod:`.policy` (numpy).
"""
